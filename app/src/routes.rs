//! Pages, one module each.

pub mod dashboard;
pub mod login;
pub mod sharing;
