//! The daemon around a running pipeline: the HTTP API ([`backend`], its listener in
//! [`api_server`]), reloads ([`reload`]), Prometheus metrics ([`metrics`]), the audit of API
//! queries ([`query_audit`]), readiness ([`readiness`]) and the audit anchors ([`anchors`]).

pub mod anchors;
pub mod api_server;
pub mod backend;
pub mod metrics;
pub mod query_audit;
pub mod readiness;
pub mod reload;
