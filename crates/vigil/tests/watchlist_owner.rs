//! One owner per watchlist on a running daemon (issue #16): a list declared with a `file` is
//! read-only to the API (409 naming the file), so nothing added there can vanish on the next
//! reload; a list without a file takes API changes, which survive reloads; entries must be
//! plates of the grammar (422 for `"ABC"`).

use std::path::Path;
use std::time::Duration;

mod common;
use common::{Reply, free_port, request, secret_file, signal, spawn_logged, vigil_run, wait_for};

const TOKEN: &str = "watchlist-owner-token-0123456789";

fn send(method: &str, url: &str, json: Option<&serde_json::Value>) -> Reply {
    request(method, url, Some(TOKEN), json, Duration::from_secs(20))
}

fn pipeline(data: &Path, port: u16, secret: &Path, gate_csv: &Path) -> String {
    format!(
        r#"
[node]
id = "owner-test"
data_dir = "{data}"

[detector]
intra_threads = 1

[api]
bind = "127.0.0.1:{port}"
[[api.tokens]]
name = "ops"
secret_file = "{secret}"

[[watchlists.list]]
name = "residents"
kind = "allowlist"
file = "{gate}"

[[watchlists.list]]
name = "adhoc"
kind = "hotlist"
"#,
        data = data.display(),
        secret = secret.display(),
        gate = gate_csv.display()
    )
}

#[test]
fn file_owned_lists_are_read_only_and_api_lists_survive_reloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let secret = secret_file(dir.path(), "ops.tok", TOKEN);
    let gate = dir.path().join("residents.csv");
    std::fs::write(
        &gate,
        "plate,list,kind\n京A12345,residents,allowlist\n沪B00001,residents,allowlist\n",
    )
    .expect("csv");
    let port = free_port();
    let file = dir.path().join("p.toml");
    std::fs::write(&file, pipeline(&data, port, &secret, &gate)).expect("write");
    let mut daemon = spawn_logged(&mut vigil_run(&file, 120), &dir.path().join("stderr.log"));
    let api = format!("http://127.0.0.1:{port}");
    wait_for("healthz", 60, || {
        (request(
            "GET",
            &format!("{api}/healthz"),
            None,
            None,
            Duration::from_secs(5),
        )
        .status
            == 200)
            .then_some(())
    });

    // The listing says which list is owned, and by what.
    let lists = send("GET", &format!("{api}/api/v1/watchlists"), None).json();
    let owner = lists
        .as_array()
        .and_then(|a| a.iter().find(|l| l["name"] == "residents"))
        .map(|l| l["read_only_owner"].clone())
        .expect("residents listed");
    assert!(
        owner.as_str().is_some_and(|o| o.contains("residents.csv")),
        "{lists}"
    );

    // Changes to the file-owned list are refused, naming the file.
    let entry = serde_json::json!({"plate": "粤C55555"});
    let r = send(
        "POST",
        &format!("{api}/api/v1/watchlists/residents/entries"),
        Some(&entry),
    );
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json()["error"]["code"],
        "list_read_only",
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(String::from_utf8_lossy(&r.body).contains("residents.csv"));
    let r = send(
        "DELETE",
        &format!("{api}/api/v1/watchlists/residents/entries/%E4%BA%ACA12345"),
        None,
    );
    assert_eq!(r.status, 409);

    // The API-managed list takes real plates only.
    let bad = serde_json::json!({"plate": "ABC"});
    let r = send(
        "POST",
        &format!("{api}/api/v1/watchlists/adhoc/entries?kind=hotlist"),
        Some(&bad),
    );
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["error"]["code"], "not_a_plate");
    let r = send(
        "POST",
        &format!("{api}/api/v1/watchlists/adhoc/entries?kind=hotlist"),
        Some(&entry),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));

    // A reload re-imports the file; the API's entry is still there, the owned list unchanged.
    let r = send("POST", &format!("{api}/api/v1/reload"), None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let adhoc = send("GET", &format!("{api}/api/v1/watchlists/adhoc"), None).json();
    assert_eq!(adhoc["entries"].as_array().map(Vec::len), Some(1), "{adhoc}");
    let residents = send("GET", &format!("{api}/api/v1/watchlists/residents"), None).json();
    assert_eq!(
        residents["entries"].as_array().map(Vec::len),
        Some(2),
        "{residents}"
    );

    assert!(signal(daemon.0.id(), "-TERM"));
    let status = wait_for("exit after SIGTERM", 30, || daemon.0.try_wait().ok().flatten());
    assert!(status.success(), "exit status {status:?}");
}
