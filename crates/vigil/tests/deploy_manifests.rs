//! The files under deploy/ against the code and docs they describe. No cluster, Grafana or
//! Prometheus runs here, so the checks are structural: the dashboard and the alert rules use only
//! the metric families (and their labels) documented in docs/operations.md §6, which in turn must
//! be the ones `crates/vigil/src/daemon/metrics.rs` registers; the Kubernetes ConfigMap's pipeline
//! file passes `vigil check`; the Deployment's probes, ports, mounts and secrets agree with that
//! pipeline file; and no manifest carries a real-looking credential.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Documented metric families

/// One row of the metrics table: type and label names.
#[derive(Debug, Clone)]
struct Family {
    kind: String,
    labels: BTreeSet<String>,
    /// Values a `state` label takes, from "(a, b, c)" in the meaning column.
    states: BTreeSet<String>,
}

/// Parses the table of docs/operations.md §6 (first column: backticked family names).
fn documented_families() -> BTreeMap<String, Family> {
    let doc = read("docs/operations.md");
    let start = doc.find("## 6. Metrics").expect("operations.md has §6 Metrics");
    let section = &doc[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut out = BTreeMap::new();
    for line in section[..end].lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| `name` | type | labels | meaning |" splits into ["", name, type, labels, meaning, ""].
        if cells.len() < 6 || !cells[1].starts_with('`') {
            continue;
        }
        let labels: BTreeSet<String> = cells[3]
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "—")
            .map(String::from)
            .collect();
        let states = match (cells[4].find('('), cells[4].find(')')) {
            (Some(a), Some(b)) if labels.contains("state") && a < b => cells[4][a + 1..b]
                .split(',')
                .map(|s| s.trim().to_string())
                .collect(),
            _ => BTreeSet::new(),
        };
        for name in cells[1].split('`').skip(1).step_by(2) {
            out.insert(
                name.to_string(),
                Family {
                    kind: cells[2].to_string(),
                    labels: labels.clone(),
                    states: states.clone(),
                },
            );
        }
    }
    out
}

/// The documented family a referenced series name belongs to (`_bucket`, `_sum`, `_count` of a
/// histogram included), or None.
fn family_of<'a>(fams: &'a BTreeMap<String, Family>, name: &str) -> Option<&'a Family> {
    if let Some(f) = fams.get(name) {
        return Some(f);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        fams.get(base).filter(|f| f.kind == "histogram")
    })
}

/// Every `vigil_[a-z_]+` in `text` with the label matchers of its selector, if it has one.
fn references(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find("vigil_") {
        let start = i + off;
        let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start + "vigil_".len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        i = end;
        if !boundary {
            continue;
        }
        let mut matchers = Vec::new();
        if bytes.get(end) == Some(&b'{')
            && let Some(close) = text[end..].find('}')
        {
            for m in text[end + 1..end + close].split(',') {
                let m = m.trim();
                if m.is_empty() {
                    continue;
                }
                let op = m.find(['=', '!']).unwrap_or(m.len());
                let value = m[op..]
                    .trim_start_matches(['=', '!', '~'])
                    .trim()
                    .trim_matches('"');
                matchers.push((m[..op].trim().to_string(), value.to_string()));
            }
        }
        out.push((text[start..end].to_string(), matchers));
    }
    out
}

/// Problems with the metric references in `text`: unknown families, labels the family does not
/// have, `state` values it never takes.
fn reference_problems(fams: &BTreeMap<String, Family>, text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (name, matchers) in references(text) {
        let Some(fam) = family_of(fams, &name) else {
            bad.push(format!("{name}: not a family documented in operations.md §6"));
            continue;
        };
        for (label, value) in matchers {
            // Prometheus adds these to every series it scrapes.
            if label == "instance" || label == "job" {
                continue;
            }
            if !fam.labels.contains(&label) {
                bad.push(format!("{name}{{{label}}}: {name} has no label {label}"));
            } else if label == "state" && !fam.states.contains(&value) {
                bad.push(format!(
                    "{name}{{state=\"{value}\"}}: states are {:?}",
                    fam.states
                ));
            }
        }
    }
    bad
}

/// The metric families `crates/vigil/src/daemon/metrics.rs` exports: every `"vigil_…"` string
/// literal there (the registry's and the hand-written histograms' names), except the fallback
/// name a constant-opts failure would register.
fn exported_families() -> BTreeSet<String> {
    exported_families_in(&read("crates/vigil/src/daemon/metrics.rs"))
}

fn exported_families_in(src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = src;
    while let Some(at) = rest.find("\"vigil_") {
        let name = &rest[at + 1..];
        let end = name
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(name.len());
        if name[end..].starts_with('"') && &name[..end] != "vigil_invalid_metric" {
            out.insert(name[..end].to_string());
        }
        rest = &name[end..];
    }
    out
}

#[test]
fn exported_family_parser_reads_string_literals_only() {
    let src = r#"counter(&r, "vigil_a_total", "help", &["camera"]);
        IntGauge::new("vigil_b_bytes", "x") // vigil_comment_only
        Opts::new("vigil_invalid_metric", "invalid")
        histogram_text(&mut out, "vigil_c_seconds", "help", m, &h);
        let s = format!("{name}_bucket{{model=\"{model}\"}}");"#;
    let got: Vec<String> = exported_families_in(src).into_iter().collect();
    assert_eq!(got, ["vigil_a_total", "vigil_b_bytes", "vigil_c_seconds"]);
}

#[test]
fn documented_families_are_the_ones_the_daemon_registers() {
    let fams = documented_families();
    assert!(
        fams.len() >= 25,
        "parsed only {} families from operations.md §6",
        fams.len()
    );
    assert_eq!(fams["vigil_detector_inference_seconds"].kind, "histogram");
    assert!(fams["vigil_rule_alerts_total"].labels.contains("rule"));
    assert!(fams["vigil_sink_state"].states.contains("down"));
    // Both directions: a family the daemon exports but the table lacks is as wrong as one the
    // table promises that is not exported.
    let exported = exported_families();
    assert!(
        exported.len() >= 25,
        "parsed only {} families from metrics.rs",
        exported.len()
    );
    let documented: BTreeSet<String> = fams.keys().cloned().collect();
    let undocumented: Vec<&String> = exported.difference(&documented).collect();
    let missing: Vec<&String> = documented.difference(&exported).collect();
    assert!(
        undocumented.is_empty(),
        "exported by metrics.rs but not in operations.md §6: {undocumented:?}"
    );
    assert!(
        missing.is_empty(),
        "documented in operations.md §6 but not exported by metrics.rs: {missing:?}"
    );
}

#[test]
fn reference_checker_rejects_unknown_families_labels_and_states() {
    let fams = documented_families();
    assert!(
        reference_problems(
            &fams,
            r#"rate(vigil_camera_frames_in_total{camera=~"$camera"}[5m])"#
        )
        .is_empty()
    );
    assert!(
        reference_problems(
            &fams,
            "histogram_quantile(0.9, rate(vigil_detector_inference_seconds_bucket[5m]))"
        )
        .is_empty()
    );
    assert_eq!(
        reference_problems(&fams, "rate(vigil_camera_fps_total[5m])").len(),
        1
    );
    assert_eq!(
        reference_problems(&fams, "vigil_camera_up_bucket").len(),
        1,
        "_bucket of a gauge"
    );
    assert_eq!(
        reference_problems(&fams, r#"vigil_outbox_entries{sink="a"}"#).len(),
        1
    );
    assert_eq!(
        reference_problems(&fams, r#"vigil_sink_state{state="offline"}"#).len(),
        1
    );
    assert!(reference_problems(&fams, r#"xvigil_nothing + vigil_sink_state{state="down"}"#).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Grafana dashboard

/// Every PromQL string of the dashboard: panel targets and query variables.
fn dashboard_queries(dash: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<&serde_json::Value> = dash["panels"].as_array().expect("panels").iter().collect();
    while let Some(p) = stack.pop() {
        if let Some(inner) = p["panels"].as_array() {
            stack.extend(inner);
        }
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push(t["expr"].as_str().expect("every target has an expr").to_string());
        }
    }
    for v in dash["templating"]["list"].as_array().expect("templating.list") {
        if let Some(q) = v["query"]["query"].as_str().or(v["query"].as_str()) {
            out.push(q.to_string());
        }
    }
    out
}

#[test]
fn dashboard_uses_only_documented_metrics_and_covers_each_stage() {
    let text = read("deploy/grafana/vigil-dashboard.json");
    let dash: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let schema = dash["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    assert_eq!(dash["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dash["__inputs"][0]["pluginId"], "prometheus");

    let vars = dash["templating"]["list"].as_array().expect("templating.list");
    let camera = vars
        .iter()
        .find(|v| v["name"] == "camera")
        .expect("a camera variable");
    assert_eq!(camera["query"]["query"], "label_values(vigil_camera_up, camera)");
    assert_eq!(camera["datasource"]["uid"], "${DS_PROMETHEUS}");

    let fams = documented_families();
    let queries = dashboard_queries(&dash);
    assert!(queries.len() >= 25, "only {} queries", queries.len());
    let problems: Vec<String> = queries
        .iter()
        .flat_map(|q| reference_problems(&fams, q))
        .collect();
    assert!(problems.is_empty(), "dashboard: {problems:#?}");

    let all = queries.join("\n");
    for needed in [
        "vigil_camera_up",
        "vigil_camera_state",
        "rate(vigil_camera_frames_analysed_total",
        "rate(vigil_camera_frames_dropped_total",
        "rate(vigil_detector_frames_dropped_total",
        "rate(vigil_plate_regions_dropped_total",
        "histogram_quantile(0.5, sum by (le, model) (rate(vigil_detector_inference_seconds_bucket",
        "histogram_quantile(0.99, sum by (le, model) (rate(vigil_detector_inference_seconds_bucket",
        "histogram_quantile(0.99, sum by (le, model) (rate(vigil_detector_queue_wait_seconds_bucket",
        "rate(vigil_rule_alerts_total",
        "rate(vigil_rule_suppressed_total",
        "rate(vigil_plates_voted_total",
        "vigil_sink_state",
        "rate(vigil_sink_published_total",
        "rate(vigil_sink_failed_total",
        "vigil_outbox_pending",
        "vigil_sink_oldest_pending_seconds",
        "vigil_process_resident_memory_bytes",
        "vigil_process_threads",
    ] {
        assert!(all.contains(needed), "no panel queries {needed}");
    }
}

/// The exported families no query in `queries` references (a histogram counts as referenced
/// through its `_bucket`, `_sum` or `_count` series).
fn families_without_a_query(exported: &BTreeSet<String>, queries: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    for q in queries {
        for (name, _) in references(q) {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|b| exported.contains(*b)))
                .map_or(name.clone(), str::to_string);
            seen.insert(base);
        }
    }
    exported.difference(&seen).cloned().collect()
}

#[test]
fn dashboard_has_a_panel_for_every_exported_family() {
    let dash: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/vigil-dashboard.json")).expect("dashboard is JSON");
    let exported = exported_families();
    let missing = families_without_a_query(&exported, &dashboard_queries(&dash));
    assert!(
        missing.is_empty(),
        "no dashboard panel queries {missing:?}; add a panel (deploy/grafana/vigil-dashboard.json)"
    );
    // The check itself: a histogram is covered by its buckets, a family nobody queries is named.
    let fams: BTreeSet<String> = ["vigil_x_seconds", "vigil_y_total"].map(String::from).into();
    assert_eq!(
        families_without_a_query(&fams, &["rate(vigil_x_seconds_bucket[5m])".to_string()]),
        ["vigil_y_total"]
    );
}

#[test]
fn dashboard_panels_use_the_input_datasource_and_do_not_overlap() {
    let dash: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/vigil-dashboard.json")).expect("dashboard is JSON");
    let panels = dash["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut boxes = Vec::new();
    for p in panels {
        let title = p["title"].as_str().expect("title");
        assert!(
            ids.insert(p["id"].as_u64().expect("id")),
            "duplicate id at {title}"
        );
        let g = &p["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| g[k].as_u64().expect("gridPos"));
        assert!(x + w <= 24 && w > 0 && h > 0, "{title}: gridPos {g}");
        boxes.push((title, x, y, w, h));
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title} has no query");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        }
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart = a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1 || a.2 + a.4 <= b.2 || b.2 + b.4 <= a.2;
            assert!(apart, "panels {:?} and {:?} overlap", a.0, b.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Prometheus alert rules

#[test]
fn alert_rules_use_only_documented_metrics_and_cover_the_outages() {
    let rules = read("deploy/prometheus/vigil-alerts.yml");
    let fams = documented_families();
    let problems = reference_problems(&fams, &rules);
    assert!(problems.is_empty(), "vigil-alerts.yml: {problems:#?}");
    assert!(rules.starts_with('#') && rules.contains("\ngroups:\n"));

    let alerts = yaml_list_items(&rules, "rules:");
    let by_name: BTreeMap<String, &String> = alerts
        .iter()
        .map(|a| (scalar(a, "alert").expect("every rule is an alert"), a))
        .collect();
    assert_eq!(by_name.len(), alerts.len(), "alert names are unique");
    for a in &alerts {
        assert!(
            a.contains("expr:") && a.contains("severity:") && a.contains("summary:"),
            "{a}"
        );
    }
    let camera_down = by_name.get("VigilCameraDown").expect("camera down alert");
    assert!(camera_down.contains("vigil_camera_up == 0"));
    assert_eq!(scalar(camera_down, "for").as_deref(), Some("2m"));
    let behind = by_name
        .get("VigilAnalysisFallingBehind")
        .expect("falling behind alert");
    assert!(
        behind.contains("rate(vigil_camera_frames_dropped_total")
            && behind.contains("vigil_camera_frames_in_total")
    );
    let sink = by_name.get("VigilSinkDown").expect("sink down alert");
    assert!(sink.contains(r#"vigil_sink_state{state="down"} == 1"#));
    let pending = by_name
        .get("VigilAlertsNotDelivered")
        .expect("oldest pending alert");
    assert!(pending.contains("vigil_sink_oldest_pending_seconds > 300"));
}

// ---------------------------------------------------------------------------------------------
// Minimal YAML reading (no YAML crate in the workspace): indentation-based blocks.

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines nested under the first line whose trimmed text is `key` (e.g. `"livenessProbe:"`),
/// starting the search at the first line containing `after`.
fn block(text: &str, after: &str, key: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .position(|l| l.contains(after))
        .unwrap_or_else(|| panic!("no {after}"));
    let at = lines[from..]
        .iter()
        .position(|l| l.trim() == key || l.trim() == format!("- {key}"))
        .map(|i| i + from)
        .unwrap_or_else(|| panic!("no {key} after {after}"));
    let base = indent(lines[at]);
    lines[at + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > base)
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The items (`- ...` at the shallowest list indentation) of the list under `key`.
fn yaml_list_items(text: &str, key: &str) -> Vec<String> {
    let body = block(text, key, key);
    let Some(first) = body.lines().find(|l| l.trim_start().starts_with("- ")) else {
        return Vec::new();
    };
    let dash = indent(first);
    let mut items: Vec<String> = Vec::new();
    for l in body.lines() {
        if indent(l) == dash && l.trim_start().starts_with("- ") {
            items.push(format!("{}{}", " ".repeat(dash + 2), &l.trim_start()[2..]));
        } else if let Some(cur) = items.last_mut() {
            cur.push('\n');
            cur.push_str(l);
        }
    }
    items
}

/// The value of the first `key: value` line in `text` (quotes removed).
fn scalar(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let t = l.trim().trim_start_matches("- ");
        let v = t.strip_prefix(key)?.strip_prefix(':')?;
        Some(v.trim().trim_matches('"').to_string())
    })
}

/// The block scalar `key: |` under `text`, dedented.
fn block_scalar(text: &str, key: &str) -> String {
    let body = block(text, key, &format!("{key} |"));
    let strip = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(indent)
        .min()
        .unwrap_or(0);
    let mut out: String = body
        .lines()
        .map(|l| if l.len() >= strip { &l[strip..] } else { "" })
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

#[test]
fn yaml_helpers_read_nested_blocks() {
    let y = "a:\n  probe:\n    path: /x\n    port: 80\n  other: 1\nlist:\n  - name: one\n    v: 1\n  - name: two\ndata:\n  f.toml: |\n    [x]\n      y = 1\n";
    assert_eq!(block(y, "a:", "probe:"), "    path: /x\n    port: 80");
    assert_eq!(scalar(&block(y, "a:", "probe:"), "port").as_deref(), Some("80"));
    let items = yaml_list_items(y, "list:");
    assert_eq!(items.len(), 2);
    assert_eq!(scalar(&items[1], "name").as_deref(), Some("two"));
    assert_eq!(block_scalar(y, "f.toml:"), "[x]\n  y = 1\n");
}

// ---------------------------------------------------------------------------------------------
// Kubernetes manifests

const K8S: &str = "deploy/k8s";

/// The pipeline file inside the ConfigMap.
fn configmap_pipeline() -> String {
    block_scalar(&read(&format!("{K8S}/configmap.yaml")), "pipeline.toml:")
}

fn pipeline_table() -> toml::Table {
    configmap_pipeline()
        .parse()
        .expect("the ConfigMap's pipeline.toml is TOML")
}

/// Every `*_env` value in the pipeline file: the variables the Secret must provide.
fn pipeline_env_vars(t: &toml::Value, out: &mut BTreeSet<String>) {
    match t {
        toml::Value::Table(m) => {
            for (k, v) in m {
                match v.as_str() {
                    Some(s) if k.ends_with("_env") => {
                        out.insert(s.to_string());
                    }
                    _ => pipeline_env_vars(v, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| pipeline_env_vars(v, out)),
        _ => {}
    }
}

#[test]
fn configmap_pipeline_passes_vigil_check() {
    let text = configmap_pipeline();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pipeline.toml");
    std::fs::write(&file, &text).expect("write pipeline");
    // `vigil check` validates without resolving secrets: none of the variables is set here.
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("check")
        .arg(&file)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("run vigil check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "vigil check failed:\n{}\n--- file ---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok (2 camera(s), 1 sink(s))"), "{stdout}");

    // The same checker refuses a broken copy, so the success above means something.
    let broken = file.with_file_name("broken.toml");
    std::fs::write(&broken, text.replace("[api]\n", "[api]\nbogus = 1\n")).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("check")
        .arg(&broken)
        .output()
        .expect("run");
    assert!(!out.status.success(), "vigil check accepted an unknown [api] key");

    let t = pipeline_table();
    for cam in t["camera"].as_array().expect("cameras") {
        let uri = cam["uri"].as_str().expect("uri");
        assert!(
            uri.starts_with("rtsp://") && !uri.contains('@'),
            "{uri}: RTSP without inline credentials"
        );
        assert!(
            cam.get("password_env").is_some() && cam.get("username").is_some(),
            "{uri}"
        );
    }
    let sink = &t["sink"][0]["sink"];
    assert!(sink.get("nats").is_some(), "the example sink is NATS");
    let tokens = t["api"]["tokens"].as_array().expect("api tokens");
    assert!(!tokens.is_empty() && tokens.iter().all(|k| k.get("secret_env").is_some()));
}

/// The port of the ConfigMap's `[api] bind`.
fn api_port() -> u16 {
    let t = pipeline_table();
    let bind = t["api"]["bind"].as_str().expect("[api] bind");
    assert!(
        bind.starts_with("0.0.0.0:"),
        "{bind}: must listen on the pod address for probes and the Service"
    );
    bind.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("bind port")
}

#[test]
fn deployment_probes_ports_and_mounts_match_the_pipeline() {
    let d = read(&format!("{K8S}/deployment.yaml"));
    let port = api_port().to_string();
    assert_eq!(scalar(&d, "kind").as_deref(), Some("Deployment"));
    assert_eq!(scalar(&d, "replicas").as_deref(), Some("1"));
    assert_eq!(
        scalar(&block(&d, "kind: Deployment", "strategy:"), "type").as_deref(),
        Some("Recreate")
    );

    for (probe, path) in [
        ("livenessProbe:", "/healthz"),
        ("readinessProbe:", "/readyz"),
        ("startupProbe:", "/healthz"),
    ] {
        let b = block(&d, "containers:", probe);
        let get = block(&b, "httpGet:", "httpGet:");
        assert_eq!(scalar(&get, "path").as_deref(), Some(path), "{probe}");
        assert_eq!(
            scalar(&get, "port").as_deref(),
            Some(port.as_str()),
            "{probe} port = [api] bind port"
        );
    }
    let ports = block(&d, "containers:", "ports:");
    assert_eq!(scalar(&ports, "containerPort").as_deref(), Some(port.as_str()));
    assert_eq!(scalar(&ports, "name").as_deref(), Some("http"));

    // Non-root, read-only root filesystem, no privilege escalation.
    let pod_sc = block(&d, "spec:", "securityContext:");
    assert_eq!(scalar(&pod_sc, "runAsNonRoot").as_deref(), Some("true"));
    assert!(
        scalar(&pod_sc, "runAsUser")
            .and_then(|u| u.parse::<u32>().ok())
            .is_some_and(|u| u > 0)
    );
    let c_sc = block(&d, "containers:", "securityContext:");
    assert_eq!(scalar(&c_sc, "readOnlyRootFilesystem").as_deref(), Some("true"));
    assert_eq!(
        scalar(&c_sc, "allowPrivilegeEscalation").as_deref(),
        Some("false")
    );
    let res = block(&d, "containers:", "resources:");
    assert!(res.contains("requests:") && res.contains("limits:") && res.contains("memory:"));

    // The daemon runs the mounted pipeline file; data_dir is the PVC mount.
    let cm = read(&format!("{K8S}/configmap.yaml"));
    let pvc = read(&format!("{K8S}/pvc.yaml"));
    let cm_name = scalar(&block(&cm, "metadata:", "metadata:"), "name").expect("ConfigMap name");
    let pvc_name = scalar(&block(&pvc, "metadata:", "metadata:"), "name").expect("PVC name");
    let volumes = block(&d, "template:", "volumes:");
    let mounts = block(&d, "containers:", "volumeMounts:");
    let mount_of = |volume_ref: &str| -> String {
        let item = yaml_list_items(&format!("volumes:\n{volumes}"), "volumes:")
            .into_iter()
            .find(|v| v.contains(volume_ref))
            .unwrap_or_else(|| panic!("no volume with {volume_ref}"));
        let vname = scalar(&item, "name").expect("volume name");
        yaml_list_items(&format!("volumeMounts:\n{mounts}"), "volumeMounts:")
            .into_iter()
            .find(|m| scalar(m, "name").as_deref() == Some(vname.as_str()))
            .and_then(|m| scalar(&m, "mountPath"))
            .unwrap_or_else(|| panic!("volume {vname} is not mounted"))
    };
    let config_dir = mount_of(&format!("name: {cm_name}"));
    let cmd = scalar(&d, "command").expect("command");
    assert!(
        cmd.contains(&format!("\"run\", \"{config_dir}/pipeline.toml\"")),
        "{cmd}"
    );
    let data_dir = pipeline_table()["node"]["data_dir"]
        .as_str()
        .expect("data_dir")
        .to_string();
    assert_eq!(mount_of(&format!("claimName: {pvc_name}")), data_dir);
    assert!(pvc.contains("ReadWriteOnce"));

    // The Secret the pod loads holds every variable the pipeline file names.
    let secret = read(&format!("{K8S}/secret.yaml"));
    let secret_name = scalar(&block(&secret, "metadata:", "metadata:"), "name").expect("Secret name");
    let env_from = block(&d, "containers:", "envFrom:");
    assert_eq!(scalar(&env_from, "name").as_deref(), Some(secret_name.as_str()));
    let mut needed = BTreeSet::new();
    pipeline_env_vars(&toml::Value::Table(pipeline_table()), &mut needed);
    let provided: BTreeSet<String> = block(&secret, "stringData:", "stringData:")
        .lines()
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim().to_string()))
        .collect();
    assert!(needed.len() >= 4, "{needed:?}");
    assert_eq!(
        needed, provided,
        "Secret keys = *_env variables of the pipeline file"
    );
}

#[test]
fn service_and_kustomization_are_namespace_agnostic_and_complete() {
    let svc = read(&format!("{K8S}/service.yaml"));
    assert_eq!(scalar(&svc, "type").as_deref(), Some("ClusterIP"));
    assert_eq!(
        scalar(&svc, "port").as_deref(),
        Some(api_port().to_string().as_str())
    );
    assert_eq!(scalar(&svc, "targetPort").as_deref(), Some("http"));
    let d = read(&format!("{K8S}/deployment.yaml"));
    let pod_labels = block(&d, "template:", "labels:");
    for l in block(&svc, "selector:", "selector:").lines() {
        assert!(
            pod_labels.contains(l.trim()),
            "Service selector {l} matches the pod"
        );
    }

    let k = read(&format!("{K8S}/kustomization.yaml"));
    let listed: BTreeSet<String> = block(&k, "resources:", "resources:")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- ").map(String::from))
        .collect();
    let mut present = BTreeSet::new();
    for e in std::fs::read_dir(root().join(K8S)).expect("deploy/k8s") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            present.insert(name);
        }
    }
    assert_eq!(listed, present, "kustomization.yaml lists every manifest");
    for f in yaml_files(&root().join(K8S)) {
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("namespace:")),
            "{} names a namespace",
            f.display()
        );
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(yaml_files(&p));
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Tokens that look like generated credentials: 32+ hex digits, or 20+ characters of a
/// base64 alphabet mixing upper case, lower case and digits; PEM private keys.
fn credential_like(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if text.contains("PRIVATE KEY-----") {
        found.push("PEM private key".into());
    }
    // '-', '/' and '=' separate words, so hyphenated placeholders ("REPLACE-ME-with-..."), URL
    // paths and `key=value` are not tokens (a base64 secret still has long runs between them).
    let token = |c: char| c.is_ascii_alphanumeric() || "+_".contains(c);
    for word in text.split(|c: char| !token(c)) {
        let hex = word.len() >= 32 && word.chars().all(|c| c.is_ascii_hexdigit());
        let mixed = word.len() >= 20
            && word.chars().any(|c| c.is_ascii_uppercase())
            && word.chars().any(|c| c.is_ascii_lowercase())
            && word.chars().any(|c| c.is_ascii_digit());
        if hex || mixed {
            found.push(word.to_string());
        }
    }
    found
}

#[test]
fn credential_detector_flags_generated_secrets_only() {
    assert_eq!(
        credential_like("token: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08").len(),
        1
    );
    assert_eq!(
        credential_like("password: Zm9vYmFyQmF6cXV4MTIzNDU2Nzg5MA==").len(),
        1
    );
    assert!(credential_like("VIGIL_API_TOKEN: \"REPLACE-ME-with-openssl-rand-hex-32\"").is_empty());
    assert!(credential_like("vigil_process_resident_memory_bytes").is_empty());
}

#[test]
fn secrets_are_placeholders_and_no_file_carries_a_credential() {
    let secret = read(&format!("{K8S}/secret.yaml"));
    assert!(
        !secret.lines().any(|l| l.starts_with("data:")),
        "use stringData so the placeholders stay readable"
    );
    let values = block(&secret, "stringData:", "stringData:");
    let mut n = 0;
    for l in values.lines().filter(|l| !l.trim().is_empty()) {
        let (key, value) = l.split_once(':').expect("key: value");
        let value = value.trim().trim_matches('"');
        assert!(
            value.starts_with("REPLACE-ME"),
            "{}: not a placeholder",
            key.trim()
        );
        n += 1;
    }
    assert!(n >= 4);

    let pipeline = configmap_pipeline();
    for l in pipeline.lines() {
        let key = l.split('=').next().unwrap_or("").trim();
        assert!(
            !matches!(key, "password" | "secret" | "token"),
            "inline credential in the pipeline file: {l}"
        );
    }
    let mut files = yaml_files(&root().join("deploy"));
    files.push(root().join("deploy/grafana/vigil-dashboard.json"));
    files.push(root().join("deploy/vigil.service"));
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let found = credential_like(&text);
        assert!(
            found.is_empty(),
            "{}: credential-like text {found:?}",
            f.display()
        );
    }
}
