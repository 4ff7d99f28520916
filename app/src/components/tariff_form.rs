//! The owner's form of the tariffs: each tariff's date, currency, import price (flat, time of
//! use with zone rows to add and remove, or a price sensor), standing charge, export, gas and
//! water. Saving replaces the whole list, as `PUT /api/v1/tariffs` does; a refusal is shown
//! beside the field it names.

pub mod draft;

use crate::functions::tariffs::save_tariffs;
use draft::{Draft, Pricing, ZoneDraft, spot};
use hearth_core::tariff::{DAYS, Tariff};
use leptos::prelude::*;

/// What the last save said: saved, or a refusal at a spot of the form ([`draft::spot`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Stored.
    Saved,
    /// Refused: where it is shown, and why.
    Refused(String, String),
}

/// A zone row's fields.
#[derive(Clone, Copy)]
struct ZoneFields {
    key: usize,
    days: [RwSignal<bool>; 7],
    from: RwSignal<String>,
    to: RwSignal<String>,
    price: RwSignal<String>,
}

impl ZoneFields {
    fn new(key: usize, z: &ZoneDraft) -> ZoneFields {
        ZoneFields {
            key,
            days: z.days.map(RwSignal::new),
            from: RwSignal::new(z.from.clone()),
            to: RwSignal::new(z.to.clone()),
            price: RwSignal::new(z.price.clone()),
        }
    }

    fn draft(&self) -> ZoneDraft {
        ZoneDraft {
            days: self.days.map(|d| d.get_untracked()),
            from: self.from.get_untracked(),
            to: self.to.get_untracked(),
            price: self.price.get_untracked(),
        }
    }
}

/// A tariff's fields.
#[derive(Clone, Copy)]
struct TariffFields {
    key: usize,
    from: RwSignal<String>,
    currency: RwSignal<String>,
    pricing: RwSignal<String>,
    price: RwSignal<String>,
    zones: RwSignal<Vec<ZoneFields>>,
    price_sensor: RwSignal<String>,
    standing: RwSignal<String>,
    export: RwSignal<String>,
    gas_price: RwSignal<String>,
    gas_standing: RwSignal<String>,
    gas_kwh_per_m3: RwSignal<String>,
    water_price: RwSignal<String>,
    water_standing: RwSignal<String>,
}

impl TariffFields {
    fn new(key: usize, d: &Draft, next_key: StoredValue<usize>) -> TariffFields {
        let s = |v: &String| RwSignal::new(v.clone());
        TariffFields {
            key,
            from: s(&d.from),
            currency: s(&d.currency),
            pricing: RwSignal::new(d.pricing.value().to_owned()),
            price: s(&d.price),
            zones: RwSignal::new(d.zones.iter().map(|z| ZoneFields::new(take(next_key), z)).collect()),
            price_sensor: s(&d.price_sensor),
            standing: s(&d.standing),
            export: s(&d.export),
            gas_price: s(&d.gas_price),
            gas_standing: s(&d.gas_standing),
            gas_kwh_per_m3: s(&d.gas_kwh_per_m3),
            water_price: s(&d.water_price),
            water_standing: s(&d.water_standing),
        }
    }

    fn draft(&self) -> Draft {
        Draft {
            from: self.from.get_untracked(),
            currency: self.currency.get_untracked(),
            pricing: Pricing::from_value(&self.pricing.get_untracked()),
            price: self.price.get_untracked(),
            zones: self.zones.get_untracked().iter().map(ZoneFields::draft).collect(),
            price_sensor: self.price_sensor.get_untracked(),
            standing: self.standing.get_untracked(),
            export: self.export.get_untracked(),
            gas_price: self.gas_price.get_untracked(),
            gas_standing: self.gas_standing.get_untracked(),
            gas_kwh_per_m3: self.gas_kwh_per_m3.get_untracked(),
            water_price: self.water_price.get_untracked(),
            water_standing: self.water_standing.get_untracked(),
        }
    }
}

/// A fresh key for a row of the form.
fn take(next: StoredValue<usize>) -> usize {
    next.update_value(|n| *n += 1);
    next.get_value()
}

/// The refusal shown at `path`, if the last save's is there.
#[component]
fn FieldError(#[prop(into)] path: Signal<String>, status: RwSignal<Option<Status>>) -> impl IntoView {
    move || {
        status.with(|s| match s {
            Some(Status::Refused(at, message)) if *at == path.get() => {
                Some(view! { <p class="error field-error" role="alert" data-field=at.clone()>{message.clone()}</p> })
            }
            _ => None,
        })
    }
}

/// A labelled text field bound to `value`, with its refusal under it.
#[component]
fn Field(
    #[prop(into)] label: Signal<&'static str>,
    value: RwSignal<String>,
    #[prop(into)] path: Signal<String>,
    status: RwSignal<Option<Status>>,
    #[prop(default = "number")] kind: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let invalid = move || status.with(|s| matches!(s, Some(Status::Refused(at, _)) if *at == path.get())).then_some("true");
    view! {
        // The refusal stands beside the label, not in it: the field's name stays its label's.
        <div class=format!("field {class}")>
            <label>
                <span>{move || label.get()}</span>
                <input type=kind step=(kind == "number").then_some("any") inputmode=(kind == "number").then_some("decimal")
                    value=value.get_untracked() bind:value=value aria-invalid=invalid data-path=move || path.get() />
            </label>
            <FieldError path=path status=status />
        </div>
    }
}

/// The tariffs form: `tariffs` as stored, `sensors` the price sensors a tariff may read,
/// `today` the house's date (a new tariff's first day). `saved` counts the saves that were
/// stored (the page reads the tariffs again on each).
#[component]
pub fn TariffForm(
    tariffs: Vec<Tariff>,
    sensors: Vec<(i64, String)>,
    today: String,
    status: RwSignal<Option<Status>>,
    saved: RwSignal<usize>,
) -> impl IntoView {
    let next_key = StoredValue::new(0usize);
    let rows = RwSignal::new(tariffs.iter().map(|t| TariffFields::new(take(next_key), &Draft::of(t), next_key)).collect::<Vec<_>>());
    let sensors = StoredValue::new(sensors);
    let pending = RwSignal::new(false);
    let add = move |_| {
        let drafts: Vec<Draft> = rows.get_untracked().iter().map(TariffFields::draft).collect();
        let fields = TariffFields::new(take(next_key), &draft::next(&drafts, &today), next_key);
        rows.update(|r| r.push(fields));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let drafts: Vec<Draft> = rows.get_untracked().iter().map(TariffFields::draft).collect();
        let list = match draft::tariffs(&drafts) {
            Ok(list) => list,
            Err(r) => return status.set(Some(Status::Refused(spot(&r.field), r.message))),
        };
        let Ok(json) = serde_json::to_string(&list) else {
            return;
        };
        status.set(None);
        pending.set(true);
        leptos::task::spawn_local(async move {
            let result = save_tariffs(json).await;
            pending.set(false);
            match result {
                Ok(()) => {
                    status.set(Some(Status::Saved));
                    saved.update(|n| *n += 1);
                }
                Err(e) => status.set(Some(Status::Refused(spot(e.field.as_deref().unwrap_or("tariffs")), e.message))),
            }
        });
    };
    view! {
        <form class="tariff-form" on:submit=submit novalidate>
            {move || {
                let all = rows.get();
                let count = all.len();
                all.into_iter().enumerate().map(|(i, t)| view! { <TariffFieldset i=i count=count fields=t rows=rows sensors=sensors status=status next_key=next_key /> }).collect_view()
            }}
            <div class="form-buttons">
                <button type="button" class="quiet" on:click=add>"Add a tariff"</button>
                <button type="submit" class="primary" disabled=move || pending.get()>"Save tariffs"</button>
                <FieldError path="tariffs".to_owned() status=status />
                {move || (status.get() == Some(Status::Saved)).then(|| view! { <p class="ok" role="status">"Saved."</p> })}
            </div>
        </form>
    }
}

#[component]
fn TariffFieldset(
    i: usize,
    count: usize,
    fields: TariffFields,
    rows: RwSignal<Vec<TariffFields>>,
    sensors: StoredValue<Vec<(i64, String)>>,
    status: RwSignal<Option<Status>>,
    next_key: StoredValue<usize>,
) -> impl IntoView {
    let at = move |f: &str| {
        if f.is_empty() { format!("tariffs[{i}]") } else { format!("tariffs[{i}].{f}") }
    };
    let t = fields;
    let remove = move |_| rows.update(|r| r.retain(|x| x.key != t.key));
    let add_zone = move |_| {
        let z = ZoneFields::new(take(next_key), &ZoneDraft { from: "07:00".into(), to: "22:00".into(), ..ZoneDraft::default() });
        t.zones.update(|zs| zs.push(z));
    };
    let pricing = move || Pricing::from_value(&t.pricing.get());
    view! {
        <fieldset class="tariff" data-tariff=i>
            <legend>{move || format!("Tariff {} of {count}: from {}", i + 1, t.from.get())}</legend>
            <FieldError path=at("") status=status />
            <div class="fields">
                <Field label="Valid from" kind="date" value=t.from path=at("from") status=status />
                <Field label="Currency" kind="text" value=t.currency path=at("currency") status=status class="short" />
                <Field label="Standing charge a day" value=t.standing path=at("standing_per_day") status=status />
                <Field label="Export earns, per kWh" value=t.export path=at("export.price") status=status />
            </div>
            <h3>"Electricity from the grid"</h3>
            <FieldError path=at("import") status=status />
            <div class="fields">
                <label>
                    <span>"Import price"</span>
                    <select bind:value=t.pricing>
                        {[(Pricing::Flat, "Flat"), (Pricing::TimeOfUse, "Time of use"), (Pricing::Sensor, "From a price sensor")].map(|(p, name)| {
                            view! { <option value=p.value() selected=t.pricing.get_untracked() == p.value()>{name}</option> }
                        })}
                    </select>
                </label>
                <Show when=move || pricing() != Pricing::Sensor>
                    <Field label=Signal::derive(move || if pricing() == Pricing::TimeOfUse { "Price outside the zones, per kWh" } else { "Price per kWh" }) value=t.price path=at("import.price") status=status />
                </Show>
                <Show when=move || pricing() == Pricing::Sensor>
                    <div class="field">
                        <label>
                            <span>"Price sensor"</span>
                            <select bind:value=t.price_sensor data-path=at("import.price_sensor")>
                                <option value="">"Choose a sensor"</option>
                                {sensors.get_value().into_iter().map(|(id, name)| view! { <option value=id.to_string() selected=t.price_sensor.get_untracked() == id.to_string()>{name}</option> }).collect_view()}
                            </select>
                        </label>
                        <FieldError path=at("import.price_sensor") status=status />
                    </div>
                </Show>
            </div>
            <Show when=move || pricing() == Pricing::TimeOfUse>
                <div class="zones">
                    <FieldError path=at("import.zones") status=status />
                    {move || t.zones.get().into_iter().enumerate().map(|(j, z)| view! { <ZoneRow i=i j=j zone=z zones=t.zones status=status /> }).collect_view()}
                    <button type="button" class="quiet" on:click=add_zone>"Add a zone"</button>
                </div>
            </Show>
            <h3>"Gas"</h3>
            <div class="fields">
                <Field label="Gas price per kWh" value=t.gas_price path=at("gas.price") status=status />
                <Field label="Gas standing charge a day" value=t.gas_standing path=at("gas.standing_per_day") status=status />
                <Field label="kWh per m³ of gas" value=t.gas_kwh_per_m3 path=at("gas.kwh_per_m3") status=status />
            </div>
            <h3>"Water"</h3>
            <div class="fields">
                <Field label="Water price per m³" value=t.water_price path=at("water.price_per_m3") status=status />
                <Field label="Water standing charge a day" value=t.water_standing path=at("water.standing_per_day") status=status />
            </div>
            <button type="button" class="quiet remove" on:click=remove>"Remove this tariff"</button>
        </fieldset>
    }
}

#[component]
fn ZoneRow(i: usize, j: usize, zone: ZoneFields, zones: RwSignal<Vec<ZoneFields>>, status: RwSignal<Option<Status>>) -> impl IntoView {
    let at = move |f: &str| format!("tariffs[{i}].import.zones[{j}]{f}");
    let invalid = move || status.with(|s| matches!(s, Some(Status::Refused(p, _)) if *p == at(""))).then_some("true");
    let remove = move |_| zones.update(|zs| zs.retain(|z| z.key != zone.key));
    view! {
        <div class="zone" data-zone=j data-path=at("") data-invalid=invalid>
            <fieldset class="days" data-path=at(".days")>
                <legend>{format!("Zone {}: days it starts on", j + 1)}</legend>
                {DAYS.iter().zip(zone.days).map(|(day, on)| view! {
                    <label class="day"><input type="checkbox" checked=on.get_untracked() bind:checked=on />{capitalised(day)}</label>
                }).collect_view()}
                <FieldError path=at(".days") status=status />
            </fieldset>
            <Field label="From" kind="time" value=zone.from path=at(".from") status=status />
            <Field label="To" kind="time" value=zone.to path=at(".to") status=status />
            <Field label="Price per kWh" value=zone.price path=at(".price") status=status />
            <button type="button" class="quiet" on:click=remove>"Remove zone"</button>
            <FieldError path=at("") status=status />
        </div>
    }
}

/// `mon` → `Mon`.
fn capitalised(day: &str) -> String {
    let mut chars = day.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}
