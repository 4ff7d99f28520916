//! Hearth's storage: every SQL statement and all database state. It is the only code that
//! knows whether it runs on an embedded SQLite file or on PostgreSQL; the rest of Hearth
//! talks to a [`Db`] and never asks which.
//!
//! Readings enter through [`reading::store`]: the group writer ([`writer`]) checks each batch
//! against its sensors, inserts it, merges it into the [`rollup`]s and commits, many batches
//! per transaction; only then does the [`bus`] announce what was stored, and the server, which
//! subscribes to it, fans it out to the live streams. The other modules hold the queries of
//! one concept each.
//!
//! It depends on `hearth-core` (the domain) and sqlx, never on leptos or axum; where the two
//! SQL dialects differ it keeps two texts side by side, here and in `migrations/`.

mod db;
mod pool;
mod recent;

pub mod account;
pub mod alert;
pub mod backup;
pub mod bus;
pub mod consumption;
pub mod cost;
pub mod device;
pub mod error;
pub mod export;
pub mod health;
pub mod mqtt;
pub mod reading;
pub mod rollup;
pub mod sensor;
pub mod retention;
pub mod tariff;
pub mod testing;
pub mod usage;
mod writer;

pub use bus::{Event, Subscription};
pub use db::{Db, StoreOptions};
pub use pool::ACQUIRE_TARGET;
pub use recent::TOKEN_TTL;
pub use error::{Error, Result};
