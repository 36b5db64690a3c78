//! Files that hold secrets (sink passwords, webhook HMAC keys, API tokens, TLS private keys):
//! the one check, shared by every crate that reads one, that such a file is private to its
//! owner.
//!
//! A secret in a file readable by group or others can be read by any local account (a shared
//! monitoring user, a compromised service), so [`warn_if_exposed`] logs a warning with the fix.
//! It warns rather than refuses: refusing would take a site down on a permission slip, and the
//! operator may have reasons (an ACL-managed group). The warning names the file and its mode,
//! never its contents.

use std::path::Path;

/// The warning for `path` when it is readable by group or others, `None` when it is private,
/// or when its mode cannot be read (the read that follows reports that). `what` names the
/// setting for the operator, e.g. `sink "bus": password_file`.
pub fn permission_warning(what: &str, path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{what} {} has mode {:o}, readable beyond its owner; run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        // No POSIX modes to check; ACLs are the operator's business there.
        let _ = (what, path);
        None
    }
}

/// [`permission_warning`], logged at `warn` level (target `vigil::secrets`) when there is one;
/// returns it too, so callers can also show it (e.g. in `vigil check`).
pub fn warn_if_exposed(what: &str, path: &Path) -> Option<String> {
    let warning = permission_warning(what, path)?;
    tracing::warn!(target: "vigil::secrets", path = %path.display(), "{warning}");
    Some(warning)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_pass_and_shared_ones_warn_with_the_fix() {
        let dir = std::env::temp_dir().join(format!("vigil-secret-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("pw");
        std::fs::write(&path, "s3cret-never-shown\n").expect("write");
        for (mode, warns) in [
            (0o600, false),
            (0o400, false),
            (0o640, true),
            (0o644, true),
            (0o604, true),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let w = permission_warning("sink \"bus\": password_file", &path);
            assert_eq!(w.is_some(), warns, "mode {mode:o}: {w:?}");
            if let Some(w) = w {
                assert!(w.contains(&format!("{mode:o}")), "{w}");
                assert!(w.contains("chmod 600") && w.contains("sink \"bus\""), "{w}");
                assert!(!w.contains("s3cret"), "{w}");
            }
        }
        assert!(permission_warning("x", &dir.join("missing")).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
