//! Pages, one module each.

pub mod login;
pub mod sharing;
pub mod temperature;
