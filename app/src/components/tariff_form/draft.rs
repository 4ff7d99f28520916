//! The Tariffs form's text, field by field, and the tariffs it stands for: a stored
//! [`Tariff`] becomes a [`Draft`] to edit, and drafts become the list `PUT /api/v1/tariffs`
//! takes. A field that is not a number is refused here with the path the server would name
//! (`tariffs[0].import.zones[1].price`); every other rule is the server's
//! ([`hearth_core::tariff::check`]), whose refusal the form shows at [`spot`].

use hearth_core::tariff::{DAYS, Export, Gas, Import, PriceZone, Refusal, Tariff, Water};

/// How the import price is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pricing {
    /// One price at every hour.
    #[default]
    Flat,
    /// A price outside zones of days × clock times, each with its own.
    TimeOfUse,
    /// The readings of a `price` sensor.
    Sensor,
}

impl Pricing {
    /// Its value in the form's `<select>`.
    pub fn value(self) -> &'static str {
        match self {
            Pricing::Flat => "flat",
            Pricing::TimeOfUse => "zones",
            Pricing::Sensor => "sensor",
        }
    }

    /// The pricing a `<select>` value names (flat for anything else).
    pub fn from_value(value: &str) -> Pricing {
        match value {
            "zones" => Pricing::TimeOfUse,
            "sensor" => Pricing::Sensor,
            _ => Pricing::Flat,
        }
    }
}

/// A time-of-use zone as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZoneDraft {
    /// Monday first.
    pub days: [bool; 7],
    /// `HH:MM`.
    pub from: String,
    /// `HH:MM` (`00:00` after a `from` ends at midnight).
    pub to: String,
    /// Price per kWh.
    pub price: String,
}

/// A tariff as typed: every number as its text, empty where not given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draft {
    /// `YYYY-MM-DD`.
    pub from: String,
    /// `EUR`.
    pub currency: String,
    /// How the import price is set.
    pub pricing: Pricing,
    /// The flat price, or the price outside the zones.
    pub price: String,
    /// The zones of a time-of-use price.
    pub zones: Vec<ZoneDraft>,
    /// The price sensor's id.
    pub price_sensor: String,
    /// Electricity's standing charge per day (empty: none).
    pub standing: String,
    /// Export credit per kWh (empty: export earns nothing).
    pub export: String,
    /// Gas price per kWh (empty, with the other gas fields: no gas).
    pub gas_price: String,
    /// Gas standing charge per day.
    pub gas_standing: String,
    /// kWh in a m³ of gas.
    pub gas_kwh_per_m3: String,
    /// Water price per m³ (empty, with its standing charge: water not priced).
    pub water_price: String,
    /// Water standing charge per day.
    pub water_standing: String,
}

/// A number as a field shows it: the shortest text that reads back as the same number.
fn text(value: f64) -> String {
    format!("{value}")
}

impl Draft {
    /// The form's fields for a stored tariff.
    pub fn of(t: &Tariff) -> Draft {
        let pricing = match (t.import.price_sensor, t.import.zones.is_empty()) {
            (Some(_), _) => Pricing::Sensor,
            (None, true) => Pricing::Flat,
            (None, false) => Pricing::TimeOfUse,
        };
        Draft {
            from: t.from.clone(),
            currency: t.currency.clone(),
            pricing,
            price: t.import.price.map(text).unwrap_or_default(),
            zones: t
                .import
                .zones
                .iter()
                .map(|z| ZoneDraft {
                    days: DAYS.map(|d| z.days.iter().any(|x| x == d)),
                    from: z.from.clone(),
                    // A clock field has no 24:00; midnight after `from` is the same instant.
                    to: if z.to == "24:00" { "00:00".into() } else { z.to.clone() },
                    price: text(z.price),
                })
                .collect(),
            price_sensor: t.import.price_sensor.map(|id| id.to_string()).unwrap_or_default(),
            standing: text(t.standing_per_day),
            export: t.export.as_ref().map(|e| text(e.price)).unwrap_or_default(),
            gas_price: t.gas.as_ref().map(|g| text(g.price)).unwrap_or_default(),
            gas_standing: t.gas.as_ref().map(|g| text(g.standing_per_day)).unwrap_or_default(),
            gas_kwh_per_m3: t.gas.as_ref().map(|g| text(g.kwh_per_m3)).unwrap_or_default(),
            water_price: t.water.as_ref().map(|w| text(w.price_per_m3)).unwrap_or_default(),
            water_standing: t.water.as_ref().map(|w| text(w.standing_per_day)).unwrap_or_default(),
        }
    }

    /// The tariff these fields stand for, as the `i`th of the list; a field that is not a
    /// number is refused with its path.
    pub fn tariff(&self, i: usize) -> Result<Tariff, Refusal> {
        let at = |f: &str| format!("tariffs[{i}].{f}");
        let import = match self.pricing {
            Pricing::Flat => Import { price: Some(number(at("import.price"), &self.price)?), ..Import::default() },
            Pricing::TimeOfUse => Import {
                price: Some(number(at("import.price"), &self.price)?),
                zones: self
                    .zones
                    .iter()
                    .enumerate()
                    .map(|(j, z)| {
                        Ok(PriceZone {
                            days: DAYS.iter().zip(z.days).filter(|(_, on)| *on).map(|(d, _)| (*d).to_owned()).collect(),
                            from: z.from.trim().to_owned(),
                            to: z.to.trim().to_owned(),
                            price: number(at(&format!("import.zones[{j}].price")), &z.price)?,
                        })
                    })
                    .collect::<Result<_, Refusal>>()?,
                price_sensor: None,
            },
            Pricing::Sensor => {
                let field = at("import.price_sensor");
                let id = self.price_sensor.trim().parse().map_err(|_| refusal(&field, "needs a price sensor: choose one"))?;
                Import { price_sensor: Some(id), ..Import::default() }
            }
        };
        let gas = if [&self.gas_price, &self.gas_standing, &self.gas_kwh_per_m3].iter().all(|s| s.trim().is_empty()) {
            None
        } else {
            Some(Gas {
                price: number(at("gas.price"), &self.gas_price)?,
                standing_per_day: optional(at("gas.standing_per_day"), &self.gas_standing)?.unwrap_or(0.0),
                kwh_per_m3: number(at("gas.kwh_per_m3"), &self.gas_kwh_per_m3)?,
            })
        };
        let water = if self.water_price.trim().is_empty() && self.water_standing.trim().is_empty() {
            None
        } else {
            Some(Water {
                price_per_m3: number(at("water.price_per_m3"), &self.water_price)?,
                standing_per_day: optional(at("water.standing_per_day"), &self.water_standing)?.unwrap_or(0.0),
            })
        };
        Ok(Tariff {
            from: self.from.trim().to_owned(),
            currency: self.currency.trim().to_uppercase(),
            import,
            standing_per_day: optional(at("standing_per_day"), &self.standing)?.unwrap_or(0.0),
            export: optional(at("export.price"), &self.export)?.map(|price| Export { price }),
            gas,
            water,
        })
    }
}

fn refusal(field: &str, why: &str) -> Refusal {
    Refusal { field: field.to_owned(), message: format!("{field} {why}") }
}

/// A field's number, allowing a decimal comma (`0,25`).
fn optional(field: String, text: &str) -> Result<Option<f64>, Refusal> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(refusal(&field, "must be a number")),
    }
}

fn number(field: String, text: &str) -> Result<f64, Refusal> {
    optional(field.clone(), text)?.ok_or_else(|| refusal(&field, "is needed"))
}

/// Every draft as the list of tariffs it stands for, in the form's order (so a refusal's
/// `tariffs[i]` is the form's `i`th).
pub fn tariffs(drafts: &[Draft]) -> Result<Vec<Tariff>, Refusal> {
    drafts.iter().enumerate().map(|(i, d)| d.tariff(i)).collect()
}

/// A new tariff's fields: the newest one's, from `today` on (a new tariff is mostly a price
/// change); with none yet, a flat price in euros.
pub fn next(drafts: &[Draft], today: &str) -> Draft {
    let mut draft = drafts.last().cloned().unwrap_or_else(|| Draft { currency: "EUR".into(), standing: "0".into(), ..Draft::default() });
    draft.from = today.to_owned();
    draft
}

/// Where in the form a refusal of `field` is shown: the field itself where the form has one,
/// else the nearest part that holds it (`tariffs[0].gas` → the tariff); `tariffs` (the whole
/// form) for anything else.
pub fn spot(field: &str) -> String {
    const OWN: [&str; 14] = [
        "from",
        "currency",
        "import",
        "import.price",
        "import.price_sensor",
        "import.zones",
        "standing_per_day",
        "export.price",
        "gas.price",
        "gas.standing_per_day",
        "gas.kwh_per_m3",
        "water.price_per_m3",
        "water.standing_per_day",
        "",
    ];
    const ZONE: [&str; 5] = ["", ".days", ".from", ".to", ".price"];
    let tariff = |f: &str| -> Option<(usize, String)> {
        let rest = f.strip_prefix("tariffs[")?;
        let (i, rest) = rest.split_once(']')?;
        Some((i.parse().ok()?, rest.strip_prefix('.').unwrap_or(rest).to_owned()))
    };
    let Some((i, rest)) = tariff(field) else {
        return "tariffs".into();
    };
    if OWN.contains(&rest.as_str()) {
        return field.to_owned();
    }
    if let Some(zone) = rest.strip_prefix("import.zones[")
        && let Some((j, tail)) = zone.split_once(']')
        && j.parse::<usize>().is_ok()
    {
        let tail = if ZONE.contains(&tail) { tail } else { "" };
        return format!("tariffs[{i}].import.zones[{j}]{tail}");
    }
    let parent = rest.split('.').next().unwrap_or_default();
    if OWN.contains(&parent) {
        return format!("tariffs[{i}].{parent}");
    }
    format!("tariffs[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Tariff {
        serde_json::from_str(
            r#"{"from": "2026-01-01", "currency": "EUR",
            "import": {"price": 0.2, "zones": [{"days": ["mon","tue","wed","thu","fri"], "from": "07:00", "to": "22:00", "price": 0.32},
                                                {"days": ["sat"], "from": "22:00", "to": "24:00", "price": 0.1}]},
            "standing_per_day": 0.3, "export": {"price": 0.08},
            "gas": {"price": 0.11, "standing_per_day": 0.28, "kwh_per_m3": 11.2},
            "water": {"price_per_m3": 2.1, "standing_per_day": 0.1}}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_tariff_comes_back_from_its_fields() {
        let t = example();
        let draft = Draft::of(&t);
        assert_eq!(draft.pricing, Pricing::TimeOfUse);
        assert_eq!(draft.zones[0].days, [true, true, true, true, true, false, false]);
        assert_eq!(draft.zones[1].to, "00:00");
        let back = draft.tariff(0).unwrap();
        // 24:00 and 00:00 after 22:00 are the same end.
        assert_eq!(back.import.zones[1].to, "00:00");
        let mut expected = t;
        expected.import.zones[1].to = "00:00".into();
        assert_eq!(back, expected);
        let accepted = hearth_core::tariff::check(vec![back], |_| false).unwrap();
        assert_eq!(accepted.len(), 1);
    }

    #[test]
    fn empty_fields_leave_out_what_they_price() {
        let draft = Draft { from: "2026-02-01".into(), currency: "eur".into(), price: "0,25".into(), ..Draft::default() };
        let t = draft.tariff(0).unwrap();
        assert_eq!(t.currency, "EUR");
        assert_eq!(t.import, Import { price: Some(0.25), ..Import::default() });
        assert_eq!((t.standing_per_day, t.export, t.gas, t.water), (0.0, None, None, None));
        // Zones typed under a flat price are not sent.
        let flat = Draft { zones: Draft::of(&example()).zones, ..draft.clone() };
        assert!(flat.tariff(0).unwrap().import.zones.is_empty());
        let sensor = Draft { pricing: Pricing::Sensor, price_sensor: "12".into(), ..draft };
        assert_eq!(sensor.tariff(0).unwrap().import, Import { price_sensor: Some(12), ..Import::default() });
    }

    #[test]
    fn a_field_that_is_not_a_number_is_named() {
        let mut drafts = vec![Draft::of(&example()), Draft::of(&example())];
        drafts[1].zones[1].price = "cheap".into();
        let refusal = tariffs(&drafts).unwrap_err();
        assert_eq!(refusal.field, "tariffs[1].import.zones[1].price");
        assert!(refusal.message.starts_with(&refusal.field));
        drafts[1] = Draft { gas_price: String::new(), ..Draft::of(&example()) };
        assert_eq!(tariffs(&drafts).unwrap_err().field, "tariffs[1].gas.price");
        drafts[1] = Draft { pricing: Pricing::Sensor, ..Draft::of(&example()) };
        assert_eq!(tariffs(&drafts).unwrap_err().field, "tariffs[1].import.price_sensor");
    }

    #[test]
    fn a_new_tariff_starts_from_the_newest() {
        let drafts = vec![Draft::of(&example())];
        let new = next(&drafts, "2026-12-05");
        assert_eq!((new.from.as_str(), new.price.as_str()), ("2026-12-05", "0.2"));
        assert_eq!(next(&[], "2026-12-05").currency, "EUR");
    }

    #[test]
    fn refusals_are_shown_at_their_field_or_the_part_holding_it() {
        assert_eq!(spot("tariffs[0].import.zones[1]"), "tariffs[0].import.zones[1]");
        assert_eq!(spot("tariffs[0].import.zones[1].days"), "tariffs[0].import.zones[1].days");
        assert_eq!(spot("tariffs[0].import.zones[1].days[2]"), "tariffs[0].import.zones[1]");
        assert_eq!(spot("tariffs[2].standing_per_day"), "tariffs[2].standing_per_day");
        assert_eq!(spot("tariffs[1].gas"), "tariffs[1]");
        assert_eq!(spot("tariffs[1].gas.kwh_per_m3"), "tariffs[1].gas.kwh_per_m3");
        assert_eq!(spot("tariffs[1].export"), "tariffs[1]");
        assert_eq!(spot("tariffs[1].import.zones"), "tariffs[1].import.zones");
        assert_eq!(spot("tariffs"), "tariffs");
        assert_eq!(spot("json"), "tariffs");
    }
}
