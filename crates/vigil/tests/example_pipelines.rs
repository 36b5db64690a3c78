//! The example pipeline files under `pipelines/` against the real `vigil check`.
//!
//! Every `pipelines/*.toml` (found by listing the folder, so a new example is covered without
//! touching this file) must pass `vigil check` with no secrets in the environment, run from the
//! repository root as the examples' comments say (watchlist `file` paths are relative to the
//! working directory). Each seed scenario has its example, and each example uses what its
//! scenario is about, so a file that drifts into something else is caught; `{camsim}` URIs name
//! mounts `vigil demo` serves, so `vigil demo --pipeline FILE` can run every example.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// `vigil check FILE` from the repository root with nothing but PATH in the environment:
/// `vigil check` resolves no secrets, so none may be needed.
fn vigil_check(file: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(root())
        .args(["check", file])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("run vigil check")
}

/// Every pipeline file in `pipelines/`, as `pipelines/<name>.toml`, sorted. Console rules
/// overlays (`<pipeline>.rules-overlay.toml`, written next to a pipeline file by the zone
/// editor) are not pipeline files: `vigil check` applies them with their pipeline file.
fn example_files() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("pipelines"))
        .expect("pipelines/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") && !n.ends_with(".rules-overlay.toml"))
        .map(|n| format!("pipelines/{n}"))
        .collect();
    out.sort();
    out
}

fn table(rel: &str) -> toml::Table {
    read(rel)
        .parse()
        .unwrap_or_else(|e| panic!("{rel} is not TOML: {e}"))
}

fn array<'a>(t: &'a toml::Table, key: &str) -> &'a [toml::Value] {
    t.get(key)
        .and_then(toml::Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Every `[[camera.rules.rule]]` of the file.
fn rules(t: &toml::Table) -> Vec<&toml::Table> {
    array(t, "camera")
        .iter()
        .filter_map(|c| c.get("rules")?.get("rule")?.as_array())
        .flatten()
        .filter_map(toml::Value::as_table)
        .collect()
}

fn kind(r: &toml::Table) -> &str {
    r.get("kind").and_then(toml::Value::as_str).unwrap_or("")
}

/// `[[watchlists.list]]` names of the given kind.
fn lists_of_kind(t: &toml::Table, want: &str) -> BTreeSet<String> {
    t.get("watchlists")
        .and_then(|w| w.get("list"))
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| l.get("kind").and_then(toml::Value::as_str) == Some(want))
        .filter_map(|l| l.get("name")?.as_str().map(String::from))
        .collect()
}

fn reads_plates(t: &toml::Table) -> bool {
    array(t, "camera")
        .iter()
        .any(|c| c.get("plates").and_then(toml::Value::as_bool) == Some(true))
}

#[test]
fn every_example_passes_vigil_check() {
    let files = example_files();
    assert!(files.len() >= 5, "pipelines/ lost its examples: {files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let out = vigil_check(file);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let t = table(file);
        let want = format!(
            "{file}: ok ({} camera(s), {} sink(s))",
            array(&t, "camera").len(),
            array(&t, "sink").len()
        );
        if !out.status.success() || stdout.trim() != want {
            failures.push(format!(
                "--- {file}\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "vigil check failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn vigil_check_reads_the_examples_watchlist_files_and_keys() {
    // The success above means something only if the same call fails on a broken copy: an
    // unknown key, and a watchlist file that is not there.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = read("pipelines/residential-gate.toml");
    for (name, broken) in [
        (
            "unknown-key.toml",
            text.replace("[node]\n", "[node]\nbogus = 1\n"),
        ),
        (
            "missing-list.toml",
            text.replace("watchlists/residents.csv", "watchlists/no-such-file.csv"),
        ),
    ] {
        assert_ne!(broken, text, "{name}: the replacement changed nothing");
        let path = dir.path().join(name);
        std::fs::write(&path, &broken).expect("write");
        let out = vigil_check(path.to_str().expect("utf-8 path"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: vigil check accepted it");
        assert!(err.contains(name), "{name}: the error names the file: {err}");
    }
}

/// The mounts `vigil demo` serves (`MountSpec::new("/path", …)` in its source).
fn demo_mounts() -> BTreeSet<String> {
    let src = read("crates/vigil/src/cmd/demo.rs");
    src.split("MountSpec::new(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(String::from))
        .collect()
}

#[test]
fn examples_run_under_vigil_demo_and_keep_their_files_in_pipelines() {
    let mounts = demo_mounts();
    assert!(
        mounts.contains("/campus") && mounts.contains("/street"),
        "{mounts:?}"
    );
    for file in example_files() {
        let t = table(&file);
        for cam in array(&t, "camera") {
            let uri = cam.get("uri").and_then(toml::Value::as_str).expect("uri");
            let path = uri.strip_prefix("{camsim}").unwrap_or_else(|| {
                panic!("{file}: uri {uri:?} is not a {{camsim}} placeholder like pipelines/demo.toml")
            });
            assert!(
                mounts.contains(path),
                "{file}: vigil demo serves {mounts:?}, not {path}"
            );
            assert!(
                cam.get("password_env").is_none(),
                "{file}: an active password_env makes `vigil demo` fail without the secret; keep it in a comment"
            );
        }
        // Watchlist files live beside the examples and exist (vigil check reads them too).
        let lists = t
            .get("watchlists")
            .and_then(|w| w.get("list"))
            .and_then(toml::Value::as_array)
            .cloned()
            .unwrap_or_default();
        for l in lists {
            if let Some(f) = l.get("file").and_then(toml::Value::as_str) {
                assert!(
                    f.starts_with("pipelines/"),
                    "{file}: watchlist file {f} outside pipelines/"
                );
                assert!(root().join(f).is_file(), "{file}: {f} is missing");
            }
        }
        // Examples write only below .cache/, like the demo.
        let data_dir = t["node"]["data_dir"].as_str().expect("data_dir");
        assert!(data_dir.starts_with(".cache/"), "{file}: data_dir {data_dir}");
    }
}

/// What each seed scenario's example must contain.
struct Scenario {
    file: &'static str,
    check: fn(&toml::Table, &str) -> Result<(), String>,
}

fn need(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_string()) }
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        file: "pipelines/residential-gate.toml",
        check: |t, text| {
            need(reads_plates(t), "a camera with plates = true")?;
            let allow = lists_of_kind(t, "allowlist");
            need(!allow.is_empty(), "an allowlist")?;
            need(!lists_of_kind(t, "hotlist").is_empty(), "a hotlist")?;
            need(
                rules(t).iter().any(|r| {
                    kind(r) == "plate_unknown_vehicle"
                        && r.get("lists").and_then(toml::Value::as_array).is_some_and(|ls| {
                            ls.iter().all(|l| l.as_str().is_some_and(|l| allow.contains(l)))
                        })
                }),
                "a plate_unknown_vehicle rule naming the allowlists",
            )?;
            need(
                rules(t).iter().any(|r| kind(r) == "plate_hotlist"),
                "a plate_hotlist rule",
            )?;
            need(
                text.contains("barrier") && text.contains("planned"),
                "a comment that the barrier action is planned, not implemented",
            )
        },
    },
    Scenario {
        file: "pipelines/perimeter-night.toml",
        check: |t, _| {
            need(
                rules(t)
                    .iter()
                    .any(|r| kind(r) == "loitering" && r.contains_key("schedule")),
                "a loitering rule with a schedule",
            )
        },
    },
    Scenario {
        file: "pipelines/street-crowding.toml",
        check: |t, _| {
            need(rules(t).iter().any(|r| kind(r) == "crowding"), "a crowding rule")?;
            need(!reads_plates(t), "no plate reading from a high point")
        },
    },
    Scenario {
        file: "pipelines/checkpoint-plates.toml",
        check: |t, text| {
            need(reads_plates(t), "a camera with plates = true")?;
            need(!lists_of_kind(t, "hotlist").is_empty(), "a hotlist")?;
            need(
                rules(t).iter().any(|r| kind(r) == "plate_hotlist"),
                "a plate_hotlist rule",
            )?;
            need(
                text.contains("pass records") && text.contains("planned"),
                "a comment that pass records are planned, not implemented",
            )
        },
    },
];

#[test]
fn each_seed_scenario_has_its_example_and_the_readme_lists_it() {
    let files: BTreeSet<String> = example_files().into_iter().collect();
    let readme = read("README.md");
    let mut problems = Vec::new();
    for s in &SCENARIOS {
        if !files.contains(s.file) || !root().join(s.file).is_file() {
            problems.push(format!("{}: missing", s.file));
            continue;
        }
        if let Err(what) = (s.check)(&table(s.file), &read(s.file)) {
            problems.push(format!("{}: needs {what}", s.file));
        }
        if !readme.contains(s.file) {
            problems.push(format!("{}: not mentioned in README.md", s.file));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The checks can fail: the demo is no gate example.
    let demo = "pipelines/demo.toml";
    assert!((SCENARIOS[0].check)(&table(demo), &read(demo)).is_err());
}
