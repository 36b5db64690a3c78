//! Golden error messages of `vigil check` for a table of broken pipeline files.
//!
//! Each `testdata/config-errors/<case>.toml` is broken in one way; `<case>.err` holds the exact
//! message `vigil check` prints (the file path shown as `<case>.toml`). The test also asserts the
//! properties every message must have: non-zero exit, a `file:line:col` (or `file:`) prefix, and
//! a fix hint where the mistake has an obvious fix. Regenerate after an intended wording change
//! with `VIGIL_BLESS=1 cargo nextest run -p vigil --test config_errors` and review the diff.

use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/config-errors")
}

#[test]
fn broken_pipeline_files_give_the_golden_errors() {
    let bless = std::env::var_os("VIGIL_BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("testdata/config-errors")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the table lost cases");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        // Run from the folder so the message names the file as written.
        let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .current_dir(dir())
            .args(["check", &name])
            .env_remove("RUST_LOG")
            // Class names are checked against the model manifests committed in models/.
            .env("VIGIL_MODEL_DIR", dir().join("../../models"))
            .output()
            .expect("vigil check");
        let err = String::from_utf8_lossy(&out.stderr).replace("\r\n", "\n");
        assert!(
            !out.status.success(),
            "{name}: a broken file must fail `vigil check`"
        );
        assert!(
            err.lines()
                .next()
                .is_some_and(|l| l.starts_with(&format!("{name}:"))),
            "{name}: the first line must name the file: {err}"
        );
        // Cases with credentials use the password `hunter2`: it must never be printed.
        assert!(!err.contains("hunter2"), "{name}: a secret was printed: {err}");
        let golden = case.with_extension("err");
        if bless {
            std::fs::write(&golden, err.as_bytes()).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
            panic!(
                "{}: missing golden file (run with VIGIL_BLESS=1)",
                golden.display()
            )
        });
        if want != err {
            failures.push(format!("--- {name}\nwant:\n{want}\ngot:\n{err}"));
        }
    }
    assert!(failures.is_empty(), "messages changed:\n{}", failures.join("\n"));
}
