//! One module per sub-command.

pub mod detect;
pub mod media;
pub mod models;
