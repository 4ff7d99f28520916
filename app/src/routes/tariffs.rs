//! `/tariffs`: what the house pays, tariff by tariff (each from its local date on), and for
//! the owner a form of the whole list ([`TariffForm`]); shared screens see it read-only.

use crate::components::tariff_form::{Status, TariffForm};
use crate::functions::tariffs::load_tariffs;
use hearth_core::tariff::{DAYS, Tariff};
use leptos::prelude::*;

/// The days of a zone as a person reads them: `every day`, `mon–fri`, `sat, sun`.
fn days_text(days: &[String]) -> String {
    let index: Vec<usize> = DAYS.iter().enumerate().filter(|(_, d)| days.iter().any(|x| x == *d)).map(|(i, _)| i).collect();
    match index[..] {
        [0, 1, 2, 3, 4, 5, 6] => "every day".into(),
        [first, .., last] if last - first + 1 == index.len() && index.len() > 2 => format!("{}–{}", DAYS[first], DAYS[last]),
        _ => days.join(", "),
    }
}

fn import_text(t: &Tariff, sensors: &[(i64, String)]) -> String {
    let per = |p: f64| format!("{p:.4} {}/kWh", t.currency);
    match (t.import.price, t.import.price_sensor) {
        (_, Some(id)) => {
            let name = sensors.iter().find(|(s, _)| *s == id).map_or_else(|| format!("sensor {id}"), |(_, n)| n.clone());
            format!("dynamic: the readings of {name}")
        }
        (Some(price), None) if t.import.zones.is_empty() => format!("flat {}", per(price)),
        (Some(price), None) => {
            let zones: Vec<String> =
                t.import.zones.iter().map(|z| format!("{} {}–{} {}", days_text(&z.days), z.from, z.to, per(z.price))).collect();
            format!("{} outside {}", per(price), zones.join("; "))
        }
        (None, None) => "–".into(),
    }
}

/// The Tariffs page.
#[component]
pub fn TariffsPage() -> impl IntoView {
    let saved = RwSignal::new(0usize);
    let status = RwSignal::new(None::<Status>);
    let tariffs = Resource::new(move || saved.get(), |_| load_tariffs());
    view! {
        <section class="panel">
            <h1>"Tariffs"</h1>
            <p class="intro">"Each tariff applies from its local date until the next one's, so a new tariff never re-prices the past. Costs on every page follow them."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match tariffs.await {
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        Ok(t) => {
                            let sensors = t.price_sensors.clone();
                            view! {
                                {if t.tariffs.is_empty() { Some(view! { <p class="empty">"No tariff yet: costs are not shown."</p> }) } else { None }}
                                <ul class="tariffs">
                                    {t.tariffs.iter().rev().map(|tariff| view! {
                                        <li data-from=tariff.from.clone()>
                                            <h2>{format!("From {}", tariff.from)}</h2>
                                            <p>{format!("Electricity: {}; standing charge {:.2} {} a day", import_text(tariff, &sensors), tariff.standing_per_day, tariff.currency)}</p>
                                            {tariff.export.as_ref().map(|e| view! { <p>{format!("Export earns {:.4} {}/kWh", e.price, tariff.currency)}</p> })}
                                            {tariff.gas.as_ref().map(|g| view! { <p>{format!("Gas: {:.4} {}/kWh ({} kWh a m³), standing charge {:.2} a day", g.price, tariff.currency, g.kwh_per_m3, g.standing_per_day)}</p> })}
                                            {tariff.water.as_ref().map(|w| view! { <p>{format!("Water: {:.2} {} a m³, standing charge {:.2} a day", w.price_per_m3, tariff.currency, w.standing_per_day)}</p> })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                {t.owner.then(|| view! {
                                    <h2>"Edit"</h2>
                                    <p class="muted">"Saving replaces every tariff by the ones below. A zone's days are those it starts on; a zone whose end is earlier than its start runs past midnight. Leave gas or water empty if they are not billed by use."</p>
                                    <TariffForm tariffs=t.tariffs.clone() sensors=sensors today=t.today.clone() status=status saved=saved />
                                })}
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_as_ranges() {
        let days = |d: &[&str]| d.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(days_text(&days(&["mon", "tue", "wed", "thu", "fri"])), "mon–fri");
        assert_eq!(days_text(&days(&DAYS)), "every day");
        assert_eq!(days_text(&days(&["sat", "sun"])), "sat, sun");
    }
}
