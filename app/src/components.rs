//! Widgets used by the pages.

pub mod account_menu;
pub mod chart;
