//! How names from other protocols become Hearth's sensor keys and kinds: deterministically,
//! the same name always giving the same key, and a kind only where the name leaves no doubt.

use hearth_core::sensor::Kind;

/// One part of a sensor key from a foreign name: ASCII letters lowercased, digits, `_`, `.` and
/// `-` kept, every other character replaced by `_` (`DS18B20-1` → `ds18b20-1`, `Küche` →
/// `k_che`).
pub fn key_part(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '.' | '-') => c,
            _ => '_',
        })
        .collect()
}

/// The sensor key made of `parts` joined by `.`, each mapped by [`key_part`]; `None` when it
/// would be empty or longer than 64 characters.
pub fn join_key<'a>(parts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let key = parts.into_iter().map(key_part).collect::<Vec<_>>().join(".");
    hearth_core::sensor::valid_key(&key).then_some(key)
}

/// A kind guessed from a name, with the factor that converts its values to the kind's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guess {
    /// The kind the name says.
    pub kind: Kind,
    /// Multiply values by this to get the kind's unit (0.001 for Wh → kWh, else 1).
    pub scale: f64,
}

/// The kind a name says, from its words (split at anything but letters and digits, trailing
/// digits dropped, case ignored): `temperature`/`temp`, `humidity`/`hum`, `power`/`watt(s)`,
/// `energy`/`kwh`/`wh` (Wh are converted to kWh), `flow`, `water`/`litre(s)`/`liter(s)`,
/// `gas`, `co2`, `battery`/`soc`, `price`. `water`, `gas` and `battery` beside another kind's
/// word only qualify it (`water_temp` is a temperature, `water_flow` a flow, `battery_power`
/// a power). Any other mix, or no such word, gives `None`.
pub fn guess_kind(name: &str) -> Option<Guess> {
    let mut kinds: Vec<Kind> = Vec::new();
    let mut watt_hours = false;
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_ascii_lowercase();
        if word == "co2" {
            kinds.push(Kind::Co2);
            continue;
        }
        let word = word.trim_end_matches(|c: char| c.is_ascii_digit());
        let kind = match word {
            "temperature" | "temp" => Kind::Temperature,
            "humidity" | "hum" => Kind::Humidity,
            "power" | "watt" | "watts" => Kind::Power,
            "energy" | "kwh" => Kind::Energy,
            "wh" => {
                watt_hours = true;
                Kind::Energy
            }
            "flow" => Kind::Flow,
            "water" | "litre" | "litres" | "liter" | "liters" => Kind::Water,
            "gas" => Kind::Gas,
            "battery" | "soc" => Kind::Battery,
            "price" => Kind::Price,
            _ => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.dedup();
    if kinds.len() > 1 {
        kinds.retain(|k| !matches!(k, Kind::Water | Kind::Gas | Kind::Battery));
    }
    match kinds[..] {
        [kind] => Some(Guess { kind, scale: if kind == Kind::Energy && watt_hours { 0.001 } else { 1.0 } }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_names_become_valid_keys() {
        assert_eq!(key_part("DS18B20-1"), "ds18b20-1");
        assert_eq!(key_part("switch:0"), "switch_0");
        assert_eq!(key_part("Küche Temp"), "k_che_temp");
        assert_eq!(join_key(["emontx", "power1"]).as_deref(), Some("emontx.power1"));
        assert_eq!(join_key([""]), None);
        assert_eq!(join_key(["a".repeat(40).as_str(), "b".repeat(30).as_str()]), None);
    }

    #[test]
    fn kinds_are_guessed_only_when_the_name_is_clear() {
        let kind = |name| guess_kind(name).map(|g| g.kind);
        assert_eq!(kind("temp1"), Some(Kind::Temperature));
        assert_eq!(kind("living_room_temperature"), Some(Kind::Temperature));
        assert_eq!(kind("Humidity"), Some(Kind::Humidity));
        assert_eq!(kind("power3"), Some(Kind::Power));
        assert_eq!(kind("energy_kwh"), Some(Kind::Energy));
        assert_eq!(kind("water_flow"), Some(Kind::Flow));
        assert_eq!(kind("water_temp"), Some(Kind::Temperature));
        assert_eq!(kind("litres"), Some(Kind::Water));
        assert_eq!(kind("vrms"), None);
        assert_eq!(kind("pulse"), None);
        assert_eq!(kind("temperature_power"), None, "two kinds: ambiguous");
        assert_eq!(kind("temporary"), None, "whole words only");
        assert_eq!(kind("co2"), Some(Kind::Co2));
        assert_eq!(kind("office_co2"), Some(Kind::Co2));
        assert_eq!(kind("gas_meter"), Some(Kind::Gas));
        assert_eq!(kind("battery_soc"), Some(Kind::Battery));
        assert_eq!(kind("battery_power"), Some(Kind::Power));
        assert_eq!(kind("spot_price"), Some(Kind::Price));
    }

    #[test]
    fn watt_hours_are_converted_to_kilowatt_hours() {
        assert_eq!(guess_kind("energy_wh"), Some(Guess { kind: Kind::Energy, scale: 0.001 }));
        assert_eq!(guess_kind("energy"), Some(Guess { kind: Kind::Energy, scale: 1.0 }));
        assert_eq!(guess_kind("kwh"), Some(Guess { kind: Kind::Energy, scale: 1.0 }));
    }
}
