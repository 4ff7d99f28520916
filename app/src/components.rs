//! Widgets used by the pages: the chart kinds, what they share, the range picker and the
//! account menu.

pub mod account_menu;
pub mod bars;
pub mod chart;
pub mod mqtt;
pub mod plot;
pub mod range_picker;
pub mod timeline;
