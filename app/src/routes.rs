//! Pages, one module each.

pub mod alerts;
pub mod appliances;
pub mod devices;
pub mod energy;
pub mod login;
pub mod overview;
pub mod sharing;
pub mod tariffs;
pub mod temperature;
pub mod water;
