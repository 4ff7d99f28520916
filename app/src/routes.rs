//! Pages, one module each.

pub mod dashboard;
