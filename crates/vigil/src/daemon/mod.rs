//! The daemon around a running pipeline: the HTTP API ([`backend`]), Prometheus metrics
//! ([`metrics`]) and the audit of API queries ([`query_audit`]).

pub mod backend;
pub mod metrics;
pub mod query_audit;
