use super::*;
use crate::consumption::per_interval;
use crate::rollup::Span;
use crate::tariff::{Export, Gas, Import, PriceZone, Water};
use crate::time::{MINUTE_MS, Offset};

fn utc(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Europe/Lisbon in 2026: UTC+0, UTC+1 from 29 March 01:00 UTC (local 01:00 → 02:00), UTC+0
/// again from 25 October 01:00 UTC (local 02:00 → 01:00).
fn lisbon() -> Zone {
    Zone {
        name: "Europe/Lisbon".into(),
        offsets: vec![
            Offset { from_ms: i64::MIN, seconds: 0 },
            Offset { from_ms: utc("2026-03-29T01:00:00Z"), seconds: 3600 },
            Offset { from_ms: utc("2026-10-25T01:00:00Z"), seconds: 0 },
        ],
    }
}

fn tariff(from: &str, price: f64) -> Tariff {
    Tariff {
        from: from.into(),
        currency: "EUR".into(),
        import: Import { price: Some(price), ..Import::default() },
        standing_per_day: 0.30,
        export: None,
        gas: None,
        water: None,
    }
}

fn zone(days: &[&str], from: &str, to: &str, price: f64) -> PriceZone {
    PriceZone { days: days.iter().map(|d| (*d).into()).collect(), from: from.into(), to: to.into(), price }
}

const ALL_DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A counter read every `step_ms` from `from_ms` to `to_ms`, each reading a millisecond
/// before its step ends (so a step is counted where it was used), advancing at `rate(t)`
/// kWh per hour. Returns the readings after `from_ms` and the baseline before them.
fn counter(from_ms: i64, to_ms: i64, step_ms: i64, rate: impl Fn(i64) -> f64) -> (Option<f64>, Vec<Span>) {
    let mut value = 0.0;
    let mut spans = Vec::new();
    let mut at = from_ms;
    while at < to_ms {
        value += rate(at) * step_ms as f64 / HOUR_MS as f64;
        at += step_ms;
        spans.push(Span::reading(at - 1, value));
    }
    (Some(0.0), spans)
}

/// What `counter` used in each slot of `schedule`.
fn per_slot(schedule: &Schedule, (baseline, spans): &(Option<f64>, Vec<Span>)) -> Vec<f64> {
    per_interval(*baseline, spans, &schedule.edges)
}

/// Uses of a house meter alone (so grid import = house), kWh per slot.
fn house_only(kwh: &[f64]) -> Vec<Use> {
    kwh.iter().map(|k| Use { energy: Metered { house: Some(*k), ..Metered::default() }, ..Use::default() }).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn assert_money(actual: Option<f64>, expected: f64, what: &str) {
    assert!(actual.is_some_and(|a| close(a, expected)), "{what}: {actual:?}, expected {expected}");
}

/// A day's figures for a steady 1 kWh/h in `zone` from `first` to `last` (local dates).
fn steady_days(tariffs: &[Tariff], zone: &Zone, first: &str, last: &str) -> Vec<DayCost> {
    let (from, to) = (day_start(zone, date(first)), day_start(zone, date(last) + Duration::days(1)));
    let schedule = schedule(tariffs, zone, &PriceReadings::new(), from, to);
    let kwh = per_slot(&schedule, &counter(from, to, 10 * MINUTE_MS, |_| 1.0));
    days(tariffs, zone, &schedule, &house_only(&kwh))
}

#[test]
fn time_of_use_follows_the_local_clock_on_23_and_25_hour_days() {
    // Night rate from 00:00 to 07:00 local, every day; a steady 1 kWh each hour.
    let mut t = tariff("2026-01-01", 0.30);
    t.import.zones = vec![zone(&ALL_DAYS, "00:00", "07:00", 0.10)];
    let tariffs = [t];
    let zone = lisbon();

    let spring = steady_days(&tariffs, &zone, "2026-03-28", "2026-03-30");
    assert_eq!(spring.iter().map(|d| d.hours).collect::<Vec<_>>(), [24.0, 23.0, 24.0]);
    // 29 March: 00:00 to 07:00 local lasts 6 hours (01:00 jumps to 02:00).
    let expected = [7.0 * 0.10 + 17.0 * 0.30, 6.0 * 0.10 + 17.0 * 0.30, 7.0 * 0.10 + 17.0 * 0.30];
    for (day, cost) in spring.iter().zip(expected) {
        assert_money(day.import_cost, cost, &day.date);
        // The standing charge is per local day, whatever its length.
        assert_money(day.standing, 0.30, &day.date);
        assert_money(day.total, cost + 0.30, &day.date);
    }
    assert!(close(spring[1].consumption_kwh, 23.0));

    let autumn = steady_days(&tariffs, &zone, "2026-10-24", "2026-10-26");
    assert_eq!(autumn.iter().map(|d| d.hours).collect::<Vec<_>>(), [24.0, 25.0, 24.0]);
    // 25 October: 00:00 to 07:00 local lasts 8 hours (01:00 to 02:00 happens twice).
    assert_money(autumn[1].import_cost, 8.0 * 0.10 + 17.0 * 0.30, "2026-10-25");
    assert_money(autumn[1].standing, 0.30, "2026-10-25");
    assert!(close(autumn[1].import_kwh, 25.0));
    assert_eq!(autumn[1].date, "2026-10-25");
}

#[test]
fn a_zone_on_the_repeated_hour_is_priced_both_times() {
    // A zone from 01:00 to 02:00 local: on 25 October Lisbon's clocks show it twice.
    let mut t = tariff("2026-01-01", 0.30);
    t.import.zones = vec![zone(&ALL_DAYS, "01:00", "02:00", 0.0)];
    let autumn = steady_days(&[t.clone()], &lisbon(), "2026-10-25", "2026-10-25");
    assert_money(autumn[0].import_cost, 23.0 * 0.30, "2026-10-25");
    // On 29 March they skip it: every hour of the day is at the base price.
    let spring = steady_days(&[t], &lisbon(), "2026-03-29", "2026-03-29");
    assert_money(spring[0].import_cost, 23.0 * 0.30, "2026-03-29");
}

#[test]
fn a_zone_across_midnight_runs_into_the_next_day() {
    // 2 January 2026 is a Friday: cheap from Friday 22:00 to Saturday 07:00.
    let mut t = tariff("2026-01-01", 0.30);
    t.import.zones = vec![zone(&["fri"], "22:00", "07:00", 0.10)];
    let days = steady_days(&[t], &Zone::utc(), "2026-01-02", "2026-01-03");
    assert_money(days[0].import_cost, 22.0 * 0.30 + 2.0 * 0.10, "Friday");
    assert_money(days[1].import_cost, 7.0 * 0.10 + 17.0 * 0.30, "Saturday");
}

#[test]
fn a_tariff_changing_mid_range_prices_each_day_by_its_own() {
    let mut later = tariff("2026-01-04", 0.25);
    later.standing_per_day = 0.40;
    let tariffs = [tariff("2026-01-02", 0.20), later];
    let days = steady_days(&tariffs, &Zone::utc(), "2026-01-01", "2026-01-05");
    // Before the first tariff: energy, but no cost.
    assert!(close(days[0].import_kwh, 24.0));
    assert_eq!((days[0].import_cost, days[0].standing, days[0].total), (None, None, None));
    assert_money(days[1].total, 24.0 * 0.20 + 0.30, "2 January");
    assert_money(days[2].total, 24.0 * 0.20 + 0.30, "3 January");
    assert_money(days[3].total, 24.0 * 0.25 + 0.40, "4 January");
    assert_money(days[4].standing, 0.40, "5 January");
}

#[test]
fn a_dynamic_price_holds_until_the_next_and_may_be_negative() {
    let zone = Zone::utc();
    let t = Tariff { import: Import { price: None, zones: vec![], price_sensor: Some(7) }, ..tariff("2026-01-01", 0.0) };
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    // The price posted the evening before holds until noon; negative in the afternoon.
    let mut prices = PriceReadings::new();
    prices.insert(7, vec![(from - 3 * HOUR_MS, 0.10), (from + 12 * HOUR_MS, -0.05), (from + 18 * HOUR_MS, 0.20)]);
    let s = schedule(&[t.clone()], &zone, &prices, from, to);
    let kwh = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |_| 1.0));
    let day = &days(&[t.clone()], &zone, &s, &house_only(&kwh))[0];
    assert_money(day.import_cost, 12.0 * 0.10 - 6.0 * 0.05 + 6.0 * 0.20, "dynamic");
    // Afternoon only, under the negative price: the import earns money.
    let (cost_kwh, cost) = priced(&s, &per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |at| f64::from(u8::from((from + 12 * HOUR_MS..from + 18 * HOUR_MS).contains(&at))))));
    assert!(close(cost_kwh, 6.0));
    assert_money(cost, -0.30, "negative");

    // Before the sensor's first price the import's cost is not known.
    prices.insert(7, vec![(from + 6 * HOUR_MS, 0.10)]);
    let s = schedule(&[t.clone()], &zone, &prices, from, to);
    let kwh = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |_| 1.0));
    let day = &days(&[t], &zone, &s, &house_only(&kwh))[0];
    assert_eq!((day.import_cost, day.total), (None, None));
    assert!(close(day.import_kwh, 24.0));
}

#[test]
fn export_earns_its_credit_and_solar_shows_in_the_flows() {
    let zone = Zone::utc();
    let mut t = tariff("2026-01-01", 0.20);
    t.export = Some(Export { price: 0.08 });
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let s = schedule(&[t.clone()], &zone, &PriceReadings::new(), from, to);
    let midday = move |at: i64| (from + 10 * HOUR_MS..from + 14 * HOUR_MS).contains(&at);
    // Solar 2 kWh/h from 10:00 to 14:00, half of it exported; the grid gives 1 kWh/h otherwise.
    let import = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |at| if midday(at) { 0.0 } else { 1.0 }));
    let export = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |at| if midday(at) { 1.0 } else { 0.0 }));
    let solar = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |at| if midday(at) { 2.0 } else { 0.0 }));
    let uses: Vec<Use> = (0..s.slots.len())
        .map(|i| Use {
            energy: Metered { import: Some(import[i]), export: Some(export[i]), solar: Some(solar[i]), ..Metered::default() },
            ..Use::default()
        })
        .collect();
    let day = &days(&[t], &zone, &s, &uses)[0];
    assert!(close(day.import_kwh, 20.0) && close(day.export_kwh, 4.0) && close(day.solar_kwh, 8.0));
    assert!(close(day.consumption_kwh, 24.0));
    assert_money(day.import_cost, 20.0 * 0.20, "import");
    assert_money(day.export_credit, 4.0 * 0.08, "export");
    assert_money(day.total, 0.30 + 20.0 * 0.20 - 4.0 * 0.08, "total");
    assert!(close(day.self_consumption_kwh, 4.0));
    assert!(day.self_sufficiency.is_some_and(|s| close(s, 4.0 / 24.0)));
    assert!(close(day.flows.solar_to_grid, 4.0) && close(day.flows.grid_to_house, 20.0));
}

#[test]
fn a_counter_reset_inside_a_priced_zone_counts_nothing_and_never_goes_negative() {
    let zone = Zone::utc();
    let mut t = tariff("2026-01-01", 0.20);
    t.import.zones = vec![zone_all_day("07:00", "22:00", 0.32)];
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let s = schedule(&[t.clone()], &zone, &PriceReadings::new(), from, to);
    // 0.5 kWh every half hour; the meter restarts from 0 at 10:30 (inside the zone), so the
    // step read then is lost.
    let spans: Vec<Span> = (1..=48)
        .map(|k| {
            let value = if k < 21 { f64::from(k) * 0.5 } else { f64::from(k - 21) * 0.5 };
            Span::reading(from + i64::from(k) * 30 * MINUTE_MS - 1, value)
        })
        .collect();
    let kwh = per_interval(Some(0.0), &spans, &s.edges);
    assert!(kwh.iter().all(|k| *k >= 0.0));
    let day = &days(&[t], &zone, &s, &house_only(&kwh))[0];
    assert!(close(day.import_kwh, 23.5));
    assert_money(day.import_cost, 14.5 * 0.32 + 9.0 * 0.20, "with a reset");
}

fn zone_all_day(from: &str, to: &str, price: f64) -> PriceZone {
    zone(&ALL_DAYS, from, to, price)
}

#[test]
fn gas_is_priced_in_kwh_from_its_cubic_metres_and_water_per_cubic_metre() {
    let zone = Zone::utc();
    let mut t = tariff("2026-01-01", 0.20);
    t.gas = Some(Gas { price: 0.11, standing_per_day: 0.28, kwh_per_m3: 11.2 });
    t.water = Some(Water { price_per_m3: 2.10, standing_per_day: 0.10 });
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let s = schedule(&[t.clone()], &zone, &PriceReadings::new(), from, to);
    let gas = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |_| 2.5 / 24.0));
    let water = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |_| 150.0 / 24.0));
    let uses: Vec<Use> = (0..s.slots.len()).map(|i| Use { gas_m3: Some(gas[i]), water_l: Some(water[i]), ..Use::default() }).collect();
    let day = &days(&[t], &zone, &s, &uses)[0];
    assert!(day.gas_kwh.is_some_and(|k| close(k, 28.0)));
    assert_money(day.gas_cost, 28.0 * 0.11, "gas");
    assert!(close(day.water_l, 150.0));
    assert_money(day.water_cost, 0.150 * 2.10, "water");
    assert_money(day.standing, 0.30 + 0.28 + 0.10, "standing");
    assert_money(day.total, 0.68 + 28.0 * 0.11 + 0.315, "total");
    // Without gas in the tariff, gas has no kWh (no calorific value) and no cost.
    let plain = tariff("2026-01-01", 0.20);
    let day = &days(&[plain], &zone, &s, &uses)[0];
    assert_eq!((day.gas_kwh, day.gas_cost, day.water_cost), (None, None, None));
    assert_money(day.total, 0.30, "electricity only");
}

#[test]
fn live_litres_move_the_days_water_cost_and_total() {
    let zone = Zone::utc();
    let mut t = tariff("2026-01-01", 0.20);
    t.water = Some(Water { price_per_m3: 2.10, standing_per_day: 0.10 });
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let s = schedule(&[t.clone()], &zone, &PriceReadings::new(), from, to);
    let water = per_slot(&s, &counter(from, to, 10 * MINUTE_MS, |_| 150.0 / 24.0));
    let uses: Vec<Use> = (0..s.slots.len()).map(|i| Use { water_l: Some(water[i]), ..Use::default() }).collect();
    let mut day = LiveDay { tariffs: vec![t], schedule: s.clone(), uses: uses.clone() };
    let total = day.cost(&zone).unwrap().total.unwrap();
    day.add_water(utc("2026-01-02T08:00:00Z"), 50.0);
    day.add_water(to, 70.0);
    let cost = day.cost(&zone).unwrap();
    assert!(close(cost.water_l, 200.0), "the next day's litres are not this day's: {}", cost.water_l);
    assert_money(cost.water_cost, 0.200 * 2.10, "water");
    assert_money(cost.total, total + 0.050 * 2.10, "total");
    // Without a water price, the litres count and the money stays as it was.
    let mut unpriced = LiveDay { tariffs: vec![tariff("2026-01-01", 0.20)], schedule: s, uses };
    unpriced.add_water(utc("2026-01-02T08:00:00Z"), 50.0);
    let cost = unpriced.cost(&zone).unwrap();
    assert!(close(cost.water_l, 200.0));
    assert_eq!(cost.water_cost, None);
    assert_money(cost.total, 0.30, "electricity's standing charge only");
}

#[test]
fn live_rises_land_in_the_slot_of_their_instant_and_price_the_day_as_stored_days_are() {
    let zone = Zone::utc();
    let mut t = tariff("2026-01-01", 0.20);
    t.import.zones = vec![self::zone(&ALL_DAYS, "07:00", "22:00", 0.32)];
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let schedule = schedule(&[t.clone()], &zone, &PriceReadings::new(), from, to);
    let mut day = LiveDay { tariffs: vec![t], uses: vec![Use::default(); schedule.slots.len()], schedule };
    assert_money(day.cost(&zone).unwrap().total, 0.30, "the standing charge alone");
    day.add(crate::energy::Role::GridImport, utc("2026-01-02T08:00:00Z"), 1.0);
    day.add(crate::energy::Role::GridImport, utc("2026-01-02T23:00:00Z"), 1.0);
    day.add(crate::energy::Role::GridImport, to, 5.0);
    let cost = day.cost(&zone).unwrap();
    assert!(close(cost.import_kwh, 2.0), "the next day's rise is not this day's: {}", cost.import_kwh);
    assert_money(cost.import_cost, 0.32 + 0.20, "a kWh in the zone and one after it");
    assert_money(cost.total, 0.30 + 0.52, "total");
    // Repricing replaces the day's row, and only that row.
    let yesterday = DayCost { date: "2026-01-01".into(), start_ms: from - crate::time::DAY_MS, ..DayCost::default() };
    let mut rows = vec![yesterday.clone(), DayCost { date: "2026-01-02".into(), start_ms: from, ..DayCost::default() }];
    day.reprice(&zone, &mut rows);
    assert_eq!(rows, vec![yesterday.clone(), cost]);
    let mut without = vec![yesterday.clone()];
    day.reprice(&zone, &mut without);
    assert_eq!(without, vec![yesterday]);
}

#[test]
fn money_is_never_rounded_in_sums() {
    // 0.2537 a kWh for 24 single kWh: 6.0888, not 24 × 0.25.
    let days = steady_days(&[tariff("2026-01-01", 0.2537)], &Zone::utc(), "2026-01-02", "2026-01-02");
    assert_money(days[0].import_cost, 24.0 * 0.2537, "unrounded");
}

#[test]
fn the_month_is_projected_from_its_days_so_far() {
    let days = steady_days(&[tariff("2026-01-01", 0.20)], &Zone::utc(), "2026-01-01", "2026-01-10");
    // Ten whole days of 4.8 + 0.30; 21 days left of 31.
    let now = utc("2026-01-11T00:00:00Z");
    let end = utc("2026-02-01T00:00:00Z");
    let projected = projected_month(&days, now, end, 21).unwrap();
    assert!(close(projected, 31.0 * (4.8 + 0.30)), "{projected}");
    assert_eq!(month_of(date("2026-12-15")), (date("2026-12-01"), date("2027-01-01")));
}

#[cfg(feature = "tzdb")]
#[test]
fn the_lisbon_offsets_of_these_tests_are_the_tz_databases() {
    let house = crate::time::house::HouseZone::named("Europe/Lisbon").unwrap();
    let zone = house.zone(utc("2026-01-01T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
    assert_eq!(zone.offsets[1..3], lisbon().offsets[1..3]);
}

#[test]
fn a_run_pays_the_mean_price_of_its_time() {
    // An hour from 06:30 to 07:30 across the end of a night rate: half at 0.10, half at 0.30.
    let mut t = tariff("2026-01-01", 0.30);
    t.import.zones = vec![zone(&ALL_DAYS, "00:00", "07:00", 0.10)];
    let (from, to) = (utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z"));
    let s = schedule(&[t], &Zone::utc(), &PriceReadings::new(), from, to);
    let price = mean_price(&s, from + 6 * HOUR_MS + 30 * MINUTE_MS, from + 7 * HOUR_MS + 30 * MINUTE_MS).unwrap();
    assert!(close(price, 0.20), "{price}");
    assert_eq!(mean_price(&s, to, to + HOUR_MS), None);
}

#[test]
fn live_rises_are_priced_at_their_instant_as_a_stored_range_is() {
    // Off-peak 0.10 from 22:00 to 07:00 across midnight, 0.30 otherwise; Lisbon in summer (UTC+1).
    let t = Tariff { import: Import { price: Some(0.30), zones: vec![zone(&ALL_DAYS, "22:00", "07:00", 0.10)], price_sensor: None }, ..tariff("2026-01-01", 0.0) };
    let live = LivePricing { tariff: Some(t.clone()), price_readings: Vec::new() };
    let z = lisbon();
    assert_eq!(live.price_at(&z, utc("2026-06-10T20:59:00Z")), Some(0.30));
    assert_eq!(live.price_at(&z, utc("2026-06-10T21:00:00Z")), Some(0.10));
    assert_eq!(live.price_at(&z, utc("2026-06-11T05:59:00Z")), Some(0.10));
    // The same as the schedule of a stored range gives.
    let at = utc("2026-06-10T21:30:00Z");
    let stored = schedule(std::slice::from_ref(&t), &z, &PriceReadings::new(), at - HOUR_MS, at + HOUR_MS);
    let k = stored.edges.partition_point(|e| *e <= at) - 1;
    assert_eq!(live.price_at(&z, at), stored.slots[k].import_price);

    // A cost moves by each rise at its price; unknown once energy was used without one.
    let mut cost = Some(1.0);
    live.charge(&mut cost, &z, utc("2026-06-10T12:00:00Z"), 2.0);
    live.charge(&mut cost, &z, utc("2026-06-10T23:00:00Z"), 1.0);
    assert!((cost.unwrap() - 1.7).abs() < 1e-12);
    let none = LivePricing::default();
    none.charge(&mut cost, &z, utc("2026-06-10T23:00:00Z"), 0.0);
    assert!(cost.is_some());
    none.charge(&mut cost, &z, utc("2026-06-10T23:00:00Z"), 0.5);
    assert_eq!(cost, None);
}

#[test]
fn live_rises_under_a_dynamic_tariff_take_the_price_of_their_instant() {
    let t = Tariff { import: Import { price: None, zones: vec![], price_sensor: Some(7) }, ..tariff("2026-01-01", 0.0) };
    let mut live = LivePricing { tariff: Some(t), price_readings: Vec::new() };
    let z = lisbon();
    let at = utc("2026-06-10T12:00:00Z");
    assert_eq!(live.price_at(&z, at), None);
    live.read_price(7, at - HOUR_MS, -0.02);
    live.read_price(8, at, 9.0);
    assert_eq!(live.price_at(&z, at), Some(-0.02));
    // A day-ahead price posted before its hour prices that hour, not the present.
    live.read_price(7, at + HOUR_MS, 0.40);
    assert_eq!(live.price_at(&z, at), Some(-0.02));
    assert_eq!(live.price_at(&z, at + 90 * MINUTE_MS), Some(0.40));
    // An older reading posted late prices only its own time.
    live.read_price(7, at - 2 * HOUR_MS, 0.5);
    assert_eq!(live.price_at(&z, at), Some(-0.02));
    assert_eq!(live.price_at(&z, at - 90 * MINUTE_MS), Some(0.5));
    // A price posted again for the same instant replaces it.
    live.read_price(7, at - HOUR_MS, 0.10);
    assert_eq!(live.price_at(&z, at), Some(0.10));
}
