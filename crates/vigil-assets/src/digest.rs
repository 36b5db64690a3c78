//! SHA-256 of files and directory trees.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Lower-case hex SHA-256 of a file, read in 1 MiB chunks.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Digest of a directory: SHA-256 over the sorted lines `"<file sha256>  <relative path>\n"` of
/// every regular file below it (paths with `/` separators). Stable across machines and copies.
pub fn tree_sha256(dir: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    for rel in files {
        let digest = file_sha256(&dir.join(&rel))?;
        h.update(format!("{digest}  {rel}\n").as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            collect(root, &path, out)?;
        } else if ty.is_file() || (ty.is_symlink() && path.is_file()) {
            let rel = path.strip_prefix(root).map_err(io::Error::other)?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_digest_changes_with_content_and_names() -> io::Result<()> {
        let d = tempfile::tempdir()?;
        std::fs::write(d.path().join("a.txt"), b"one")?;
        std::fs::create_dir(d.path().join("sub"))?;
        std::fs::write(d.path().join("sub/b.txt"), b"two")?;
        let first = tree_sha256(d.path())?;
        assert_eq!(first, tree_sha256(d.path())?, "stable");
        std::fs::write(d.path().join("sub/b.txt"), b"TWO")?;
        let second = tree_sha256(d.path())?;
        assert_ne!(first, second, "content change");
        std::fs::rename(d.path().join("a.txt"), d.path().join("c.txt"))?;
        assert_ne!(second, tree_sha256(d.path())?, "rename");
        Ok(())
    }

    #[test]
    fn file_digest_matches_known_value() -> io::Result<()> {
        let d = tempfile::tempdir()?;
        let p = d.path().join("x");
        std::fs::write(&p, b"abc")?;
        assert_eq!(
            file_sha256(&p)?,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        Ok(())
    }
}
