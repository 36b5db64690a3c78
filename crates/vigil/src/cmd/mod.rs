//! One module per sub-command.

pub mod bench;
pub mod bench_pipeline;
pub mod bench_soak;
pub mod camsim;
pub mod demo;
pub mod detect;
pub mod eval;
pub mod media;
pub mod models;
pub mod outbox;
pub mod reads;
pub mod run;
