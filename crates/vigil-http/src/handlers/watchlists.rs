//! Watchlists: list, get (JSON or CSV), replace (CSV or JSON upload), add and remove one entry,
//! and the recent lines of the change audit log.
//!
//! Changes go through [`vigil_watchlist::LiveWatchlists`], which serialises them, writes the
//! hash-chained audit line first and swaps the matching index only after the file is renamed
//! into place; an upload with one bad row changes nothing. Reads are queries in the sense of the
//! privacy rules and are recorded with [`crate::Backend::audit_query`] first.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use vigil_watchlist::audit::{AuditRecord, ChangeContext, ChangeCounts};
use vigil_watchlist::store::ChangeSummary;
use vigil_watchlist::{ListKind, ListName, LiveWatchlists, Plate, Priority, WatchlistEntry, csv_io, json_io};

use super::{ApiBody, ApiJson, ApiPath, ApiQuery, AppState, audited, what};
use crate::backend::Caller;
use crate::error::ApiError;

/// Default and largest `limit` of the audit listing.
const AUDIT_DEFAULT_LIMIT: usize = 100;
const AUDIT_MAX_LIMIT: usize = 1000;

/// One list in the listing.
#[derive(Debug, Serialize)]
struct ListInfo {
    name: String,
    kind: ListKind,
    entries: usize,
    /// What owns a read-only list (its pipeline-file declaration); absent when the API may
    /// change it.
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only_owner: Option<String>,
}

/// What a change did, as returned to the client.
#[derive(Debug, Serialize)]
pub(crate) struct ChangeOut {
    list: String,
    #[serde(flatten)]
    counts: ChangeCounts,
}

impl From<ChangeSummary> for ChangeOut {
    fn from(s: ChangeSummary) -> Self {
        Self {
            list: s.list.to_string(),
            counts: s.counts,
        }
    }
}

fn ctx(caller: &Caller) -> ChangeContext {
    ChangeContext {
        who: caller.token.clone(),
        source: caller.source(),
        at: Timestamp::now(),
    }
}

/// The list name of a URL: exactly as written (the parser would trim spaces; a URL names the
/// list exactly, as the OpenAPI pattern says).
fn list_name(name: &str) -> Result<ListName, ApiError> {
    let bad = |detail: String| ApiError::bad_request("bad_list_name", detail);
    let parsed = ListName::parse(name).map_err(|e| bad(e.to_string()))?;
    if parsed.as_str() != name {
        return Err(bad(format!(
            "list name {name:?} has spaces around it; write it without them, e.g. {:?}",
            parsed.as_str()
        )));
    }
    Ok(parsed)
}

/// The kind of an existing list, from the live index (no file read).
fn current_kind(live: &LiveWatchlists, name: &ListName) -> Option<ListKind> {
    live.index()
        .lists()
        .iter()
        .find(|l| &l.name == name)
        .map(|l| l.kind)
}

/// `GET /api/v1/watchlists`: name, kind and entry count of every list.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
) -> Result<Json<Vec<Value>>, ApiError> {
    audited(&state, caller, what(&method, &uri), |b| {
        let live = b.watchlists();
        let policy = live.policy();
        Ok(live
            .index()
            .lists()
            .iter()
            .map(|l| {
                json!(ListInfo {
                    name: l.name.to_string(),
                    kind: l.kind,
                    entries: l.entries,
                    read_only_owner: policy.owner(&l.name).map(str::to_owned),
                })
            })
            .collect())
    })
    .await
    .map(Json)
}

/// `?format=` of `GET /api/v1/watchlists/{name}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetParams {
    #[serde(default)]
    format: Format,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Json,
    Csv,
}

/// `GET /api/v1/watchlists/{name}`: the list document (the store's JSON format, which `PUT`
/// accepts back), or CSV with `?format=csv`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<GetParams>,
) -> Result<Response, ApiError> {
    let name = list_name(&name)?;
    let (bytes, content_type) = audited(&state, caller, what(&method, &uri), move |b| {
        let list = b.watchlists().load(&name)?;
        let mut out = Vec::new();
        match params.format {
            Format::Json => {
                json_io::write_json(&mut out, &list).map_err(|e| export_failed(&e))?;
                Ok((out, "application/json"))
            }
            Format::Csv => {
                csv_io::write_csv(&mut out, [&list]).map_err(|e| export_failed(&e))?;
                Ok((out, "text/csv; charset=utf-8"))
            }
        }
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

fn export_failed(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal("export_failed", format!("writing the list failed: {e}"))
}

/// `?kind=` of the change endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KindParam {
    kind: Option<String>,
}

impl KindParam {
    fn parse(&self) -> Result<Option<ListKind>, ApiError> {
        self.kind
            .as_deref()
            .map(|k| {
                k.parse::<ListKind>()
                    .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))
            })
            .transpose()
    }
}

/// Only what `PUT` needs to see of a JSON document before handing it to the importer.
#[derive(Deserialize)]
struct DocHead {
    name: String,
    kind: String,
}

/// `PUT /api/v1/watchlists/{name}`: replaces (or creates) the list atomically from a
/// `text/csv` or `application/json` body. `?kind=` is needed to create a list from CSV and
/// must agree with the list otherwise.
pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<KindParam>,
    headers: HeaderMap,
    ApiBody(body): ApiBody,
) -> Result<Json<ChangeOut>, ApiError> {
    let name = list_name(&name)?;
    let asked = params.parse()?;
    let media = media_type(headers.get(header::CONTENT_TYPE));
    let is_json = match media.as_deref() {
        Some("text/csv") => false,
        Some("application/json") => true,
        other => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "Content-Type {} is not accepted; send text/csv or application/json",
                    other.unwrap_or("(none)")
                ),
            ));
        }
    };
    if is_json {
        // Check that the document names the list in the URL before anything is imported.
        let head: DocHead = serde_json::from_slice(&body).map_err(|e| ApiError::from_json(&e))?;
        if head.name.trim() != name.as_str() {
            return Err(ApiError::unprocessable(
                "name_mismatch",
                format!(
                    "the document is list {:?} but the URL names {:?}; PUT it to /api/v1/watchlists/{}",
                    head.name,
                    name.as_str(),
                    head.name.trim()
                ),
            ));
        }
        if let Some(kind) = asked
            && head.kind.parse::<ListKind>().ok() != Some(kind)
        {
            return Err(kind_mismatch(&name, kind, &head.kind));
        }
    }
    state
        .blocking(move |b| {
            let live = b.watchlists();
            let ctx = ctx(&caller);
            let summary = if is_json {
                live.import_json(&body[..], &ctx)?
            } else {
                let kind = match (asked, current_kind(live, &name)) {
                    (Some(k), _) | (None, Some(k)) => k,
                    (None, None) => {
                        return Err(ApiError::bad_request(
                            "kind_required",
                            format!(
                                "list {:?} does not exist yet; say what it is with ?kind=hotlist or ?kind=allowlist",
                                name.as_str()
                            ),
                        ));
                    }
                };
                live.import_csv(&name, kind, &body[..], &ctx)?
            };
            tracing::info!(
                list = %summary.list,
                who = %caller.token,
                source = %caller.source(),
                before = summary.counts.before,
                after = summary.counts.after,
                "watchlist replaced through the API"
            );
            Ok(summary)
        })
        .await
        .map(|s| Json(s.into()))
}

fn kind_mismatch(name: &ListName, asked: ListKind, found: &str) -> ApiError {
    ApiError::unprocessable(
        "kind_mismatch",
        format!(
            "?kind={} but list {:?} is a {found}; drop ?kind or fix it",
            asked.as_str(),
            name.as_str()
        ),
    )
}

/// `type/subtype` of a Content-Type header, lower-cased, parameters dropped.
fn media_type(v: Option<&HeaderValue>) -> Option<String> {
    let s = v?.to_str().ok()?;
    let media = s.split(';').next()?.trim().to_ascii_lowercase();
    (!media.is_empty()).then_some(media)
}

/// The body of `POST /api/v1/watchlists/{name}/entries`: one entry in the list file's entry
/// format (list and kind come from the URL and the list).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewEntry {
    plate: Plate,
    #[serde(default)]
    priority: Priority,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    valid_from: Option<Timestamp>,
    #[serde(default)]
    valid_until: Option<Timestamp>,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/watchlists/{name}/entries`: adds one entry (creating the list when `?kind=`
/// says what it is). 201 with the change counts.
pub(crate) async fn add_entry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<KindParam>,
    ApiJson(new): ApiJson<NewEntry>,
) -> Result<(StatusCode, Json<ChangeOut>), ApiError> {
    let name = list_name(&name)?;
    let asked = params.parse()?;
    state
        .blocking(move |b| {
            let live = b.watchlists();
            let kind = match (asked, current_kind(live, &name)) {
                (Some(a), Some(k)) if a != k => return Err(kind_mismatch(&name, a, k.as_str())),
                (_, Some(k)) | (Some(k), None) => k,
                (None, None) => {
                    return Err(ApiError::not_found(
                        "watchlist_not_found",
                        format!(
                            "list {:?} does not exist; add ?kind=hotlist or ?kind=allowlist to create it",
                            name.as_str()
                        ),
                    ));
                }
            };
            let entry = WatchlistEntry {
                plate: new.plate,
                list: name,
                kind,
                priority: new.priority,
                reason: new.reason,
                valid_from: new.valid_from,
                valid_until: new.valid_until,
                note: new.note,
            };
            if entry.window_is_empty() {
                return Err(ApiError::unprocessable(
                    "invalid_entry",
                    "valid_from is not before valid_until; the entry could never match",
                ));
            }
            Ok(live.add_entry(entry, &ctx(&caller))?)
        })
        .await
        .map(|s| (StatusCode::CREATED, Json(s.into())))
}

/// `DELETE /api/v1/watchlists/{name}/entries/{plate}`: removes the entry whose plate has the
/// same matching key as `plate` (any spelling: `京A·12345` removes `京A12345`).
pub(crate) async fn remove_entry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((name, plate)): ApiPath<(String, String)>,
) -> Result<Json<ChangeOut>, ApiError> {
    let name = list_name(&name)?;
    state
        .blocking(move |b| Ok(b.watchlists().remove_entry(&name, &plate, &ctx(&caller))?))
        .await
        .map(|s| Json(s.into()))
}

/// `?limit=` of the audit listing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    limit: Option<usize>,
}

/// `GET /api/v1/audit/watchlists`: the last `limit` lines of the watchlist change log, oldest
/// first, and the chain head (the SHA-256 to anchor elsewhere).
pub(crate) async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(AUDIT_DEFAULT_LIMIT);
    if !(1..=AUDIT_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("limit={limit} is out of range; use 1 to {AUDIT_MAX_LIMIT}"),
        ));
    }
    audited(&state, caller, what(&method, &uri), move |b| {
        // Read under the store lock: no append can interleave, so the head matches the lines.
        b.watchlists().with_store(|store| {
            let log = store.audit();
            let records = tail_records(log.path(), limit)?;
            Ok(json!({ "head": log.head(), "records": records }))
        })
    })
    .await
    .map(Json)
}

/// The last `limit` records of the log; O(file) time, O(limit) memory.
fn tail_records(path: &std::path::Path, limit: usize) -> Result<Vec<AuditRecord>, ApiError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        ApiError::internal(
            "audit_unreadable",
            format!("audit log {}: {e}; run the audit verify command", path.display()),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    let mut last: VecDeque<String> = VecDeque::with_capacity(limit + 1);
    for line in BufReader::new(file).lines() {
        last.push_back(line.map_err(|e| unreadable(&e))?);
        if last.len() > limit {
            last.pop_front();
        }
    }
    last.iter()
        .map(|l| serde_json::from_str(l).map_err(|e| unreadable(&e)))
        .collect()
}
