//! Hearth's domain: what a house's devices measure and what it means, with no framework.
//!
//! The data path is device → ingest → store → rollup → broadcast → chart; this crate holds
//! the rules every layer of it shares: [`sensor`]s and their kinds, [`reading`]s and how a
//! live one merges into a chart's series, [`rollup`] tiers and segments, [`consumption`] of
//! counters and the daily figures the pages show, appliance [`usage`], [`alert`] rules and
//! how they are judged, [`range`]s of the views, house [`time`], [`device`]s, [`account`]s,
//! what the protocol front doors heard ([`mqtt`]), [`tariff`]s and what a range [`cost`], and
//! where the house's [`energy`] comes from.
//!
//! It may not depend on leptos, sqlx or tokio: it builds for the browser and the server, and
//! it is tested with plain unit tests. Server-only time (the tz database) is behind the
//! `tzdb` feature.

pub mod account;
pub mod alert;
pub mod consumption;
pub mod cost;
pub mod device;
pub mod energy;
pub mod format;
pub mod mqtt;
pub mod range;
pub mod reading;
pub mod rollup;
pub mod sensor;
pub mod tariff;
pub mod time;
pub mod usage;
