//! Server functions: thin, each checks who calls, asks the store and shapes what one page or
//! widget shows. Their errors are [`AppError`](crate::error::AppError)s. The data types they
//! return live beside them, so the pages and the server agree on one definition.

pub mod account;
pub mod alerts;
pub mod appliances;
pub mod climate;
pub mod devices;
pub mod electricity;
pub mod mqtt;
pub mod overview;
pub mod tariffs;
pub mod water;

/// The window a chart view's `range` asks for, with the house's zone and the time now.
#[cfg(feature = "ssr")]
fn window(
    range: &hearth_core::range::RangeQuery,
    default: hearth_core::range::Preset,
) -> Result<(hearth_core::range::Window, hearth_core::time::house::HouseZone, i64), crate::error::AppError> {
    let house = crate::context::zone();
    let now = hearth_core::time::now_ms();
    let window = hearth_core::range::resolve(range, default, &house, now)
        .map_err(|e| crate::error::AppError::invalid(e.field, e.message))?;
    Ok((window, house, now))
}
