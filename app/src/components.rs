//! Widgets used by the pages: the chart kinds, what they share, and the range picker.

pub mod bars;
pub mod chart;
pub mod plot;
pub mod range_picker;
pub mod timeline;
