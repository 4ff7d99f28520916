//! Widgets used by the pages.

pub mod chart;
pub mod mqtt;
