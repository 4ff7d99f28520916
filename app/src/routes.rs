//! Pages, one module each.

pub mod temperature;
