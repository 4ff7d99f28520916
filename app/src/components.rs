//! Widgets used by the pages.

pub mod chart;
