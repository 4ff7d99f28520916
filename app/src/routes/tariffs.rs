//! `/tariffs`: what the house pays, tariff by tariff (each from its local date on), and for
//! the owner an editor of the list as JSON, the same the API's `PUT /api/v1/tariffs` takes.

use crate::functions::tariffs::{SaveTariffs, load_tariffs};
use hearth_core::tariff::{DAYS, Tariff};
use leptos::form::ActionForm;
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
    let save = ServerAction::<SaveTariffs>::new();
    let tariffs = Resource::new(move || save.version().get(), |_| load_tariffs());
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
                                            <h3>{format!("From {}", tariff.from)}</h3>
                                            <p>{format!("Electricity: {}; standing charge {:.2} {} a day", import_text(tariff, &sensors), tariff.standing_per_day, tariff.currency)}</p>
                                            {tariff.export.as_ref().map(|e| view! { <p>{format!("Export earns {:.4} {}/kWh", e.price, tariff.currency)}</p> })}
                                            {tariff.gas.as_ref().map(|g| view! { <p>{format!("Gas: {:.4} {}/kWh ({} kWh a m³), standing charge {:.2} a day", g.price, tariff.currency, g.kwh_per_m3, g.standing_per_day)}</p> })}
                                            {tariff.water.as_ref().map(|w| view! { <p>{format!("Water: {:.2} {} a m³, standing charge {:.2} a day", w.price_per_m3, tariff.currency, w.standing_per_day)}</p> })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                {t.owner.then(|| view! {
                                    <h2>"Edit"</h2>
                                    <p class="muted">"The list as JSON: each tariff has from, currency, import ({\"price\": 0.25}, with \"zones\" of days, from, to and price, or {\"price_sensor\": id}), standing_per_day, and optionally export, gas and water. A zone whose to is earlier than its from runs past midnight."
                                        {(!sensors.is_empty()).then(|| format!(" Price sensors: {}.", sensors.iter().map(|(id, n)| format!("{n} = {id}")).collect::<Vec<_>>().join(", ")))}
                                    </p>
                                    <ActionForm action=save>
                                        <textarea name="json" class="tariff-json" aria-label="Tariffs as JSON" spellcheck="false">{t.json.clone()}</textarea>
                                        <button type="submit">"Save tariffs"</button>
                                    </ActionForm>
                                })}
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            {move || save.value().get().map(|result| match result {
                Ok(()) => view! { <p class="ok" role="status">"Saved."</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert" data-field=e.field.clone()>{e.to_string()}</p> }.into_any(),
            })}
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
