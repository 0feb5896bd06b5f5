//! One file per command.

pub mod batch;
pub mod call;
pub mod complete;
pub mod config;
pub mod ls;
pub mod usage;
