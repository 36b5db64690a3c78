//! One module per sub-command.

pub mod detect;
pub mod eval;
pub mod media;
pub mod models;
