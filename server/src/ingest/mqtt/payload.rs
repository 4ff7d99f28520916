//! MQTT payloads as the devices publish them: which protocol and prefix a topic names
//! ([`route`]) and what a message carries ([`read`]): Tasmota telemetry and states, Shelly
//! (Gen2+) component statuses, ESPHome states, Hearth's own JSON, and online states. Pure
//! functions of the topic, the payload, the arrival time and the house's zone.

use crate::ingest::Foreign;
use crate::error::Error;
use crate::ingest::check_incoming;
use crate::ingest::mapping::{guess_kind, key_part};
use hearth_core::reading::Incoming;
use hearth_core::sensor::Kind;
use hearth_core::time::house::HouseZone;
use serde_json::{Map, Value};

/// Where a topic comes from: the protocol, the device's prefix, and what the topic carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'t> {
    /// `tasmota`, `shelly`, `esphome` or `hearth`.
    pub protocol: &'static str,
    /// The prefix that identifies the device.
    pub prefix: &'t str,
    /// What the message holds.
    pub topic: Topic<'t>,
}

/// What a topic carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic<'t> {
    /// Tasmota `tele/<topic>/SENSOR` or `STATE`: JSON telemetry.
    TasmotaTelemetry,
    /// Tasmota `stat/<topic>/POWER<n>`: `ON` or `OFF` of relay n (empty for the only relay).
    TasmotaPower(&'t str),
    /// Shelly `<prefix>/status/<component>:<id>`: a component's JSON status.
    ShellyStatus(&'t str),
    /// ESPHome `<prefix>/<component>/<object id>/state`.
    EsphomeState {
        /// `sensor`, `binary_sensor` or `switch`.
        component: &'t str,
        /// The entity's object id.
        object_id: &'t str,
    },
    /// Hearth's own `hearth/<device>/<sensor>` (a number or one reading as JSON) or
    /// `hearth/<device>` (the ingest endpoint's JSON).
    Hearth(Option<&'t str>),
    /// Tasmota `LWT`, Shelly `online`, ESPHome `status`: whether the device is online.
    Online,
}

/// The route of a topic, or `None` for topics of no known shape (ignored).
pub fn route(topic: &str) -> Option<Route<'_>> {
    let levels: Vec<&str> = topic.split('/').collect();
    fn route<'t>(protocol: &'static str, prefix: &'t str, topic: Topic<'t>) -> Option<Route<'t>> {
        (!prefix.is_empty()).then_some(Route { protocol, prefix, topic })
    }
    let before = |n: usize| &topic[..topic.len() - levels[levels.len() - n..].iter().map(|l| l.len() + 1).sum::<usize>()];
    match levels[..] {
        ["hearth", device] => return route("hearth", device, Topic::Hearth(None)),
        ["hearth", device, sensor] => return route("hearth", device, Topic::Hearth(Some(sensor))),
        ["hearth", ..] => return None,
        ["tele", t, "SENSOR" | "STATE"] => return route("tasmota", t, Topic::TasmotaTelemetry),
        ["tele", t, "LWT"] => return route("tasmota", t, Topic::Online),
        ["stat", t, power] if power.starts_with("POWER") && power[5..].bytes().all(|b| b.is_ascii_digit()) => {
            return route("tasmota", t, Topic::TasmotaPower(&power[5..]));
        }
        _ => {}
    }
    let n = levels.len();
    if n >= 3 {
        // Tasmota with FullTopic `%topic%/%prefix%/`.
        match levels[n - 2..] {
            ["tele", "SENSOR" | "STATE"] => return route("tasmota", before(2), Topic::TasmotaTelemetry),
            ["tele", "LWT"] => return route("tasmota", before(2), Topic::Online),
            ["stat", power] if power.starts_with("POWER") && power[5..].bytes().all(|b| b.is_ascii_digit()) => {
                return route("tasmota", before(2), Topic::TasmotaPower(&power[5..]));
            }
            ["status", component] if component.contains(':') => {
                return route("shelly", before(2), Topic::ShellyStatus(component));
            }
            _ => {}
        }
    }
    if n >= 4 && levels[n - 1] == "state" && matches!(levels[n - 3], "sensor" | "binary_sensor" | "switch") {
        return route("esphome", before(3), Topic::EsphomeState { component: levels[n - 3], object_id: levels[n - 2] });
    }
    match levels[..] {
        [.., "online"] if n >= 2 => route("shelly", before(1), Topic::Online),
        [.., "status"] if n >= 2 => route("esphome", before(1), Topic::Online),
        _ => None,
    }
}

/// What a message means for its device.
#[derive(Debug, PartialEq)]
pub enum Message {
    /// Readings to store.
    Readings(Vec<Foreign>),
    /// The device is online or offline.
    Online(bool),
}

/// Reads a message's payload by its route. `received_ms` is the time of readings whose
/// message carries none; Tasmota's offset-less `Time` is read in `zone`.
pub fn read(route: &Route<'_>, payload: &[u8], received_ms: i64, zone: &HouseZone) -> Result<Message, String> {
    let text = std::str::from_utf8(payload).map_err(|_| "the payload is not UTF-8 text".to_owned())?.trim();
    let readings = match &route.topic {
        Topic::Online => {
            return match text.to_ascii_lowercase().as_str() {
                "online" | "true" => Ok(Message::Online(true)),
                "offline" | "false" => Ok(Message::Online(false)),
                _ => Err(format!("{text:?} is neither online nor offline")),
            };
        }
        Topic::TasmotaTelemetry => tasmota_telemetry(&object(text)?, received_ms, zone)?,
        Topic::TasmotaPower(relay) => vec![stated(format!("switch{relay}"), on_off(text)?, received_ms, Kind::Switch)],
        Topic::ShellyStatus(component) => shelly_status(component, &object(text)?, received_ms),
        Topic::EsphomeState { component: "sensor", object_id } => {
            if text.eq_ignore_ascii_case("nan") || text.is_empty() {
                Vec::new()
            } else {
                let value: f64 = text.parse().map_err(|_| format!("state {text:?} is not a number"))?;
                let key = key_part(object_id);
                let guess = guess_kind(object_id);
                vec![Foreign {
                    reading: Incoming { key, value: value * guess.map_or(1.0, |g| g.scale), at_ms: received_ms, kind: guess.map(|g| g.kind), room: None },
                    guessed: true,
                    origin: 0,
                }]
            }
        }
        Topic::EsphomeState { object_id, .. } => vec![stated(key_part(object_id), on_off(text)?, received_ms, Kind::Switch)],
        Topic::Hearth(Some(sensor)) => match text.parse::<f64>() {
            Ok(value) => {
                let guess = guess_kind(sensor);
                vec![Foreign {
                    reading: Incoming { key: (*sensor).to_owned(), value, at_ms: received_ms, kind: guess.map(|g| g.kind), room: None },
                    guessed: true,
                    origin: 0,
                }]
            }
            Err(_) => {
                let mut reading = object(text)?;
                reading.entry("sensor").or_insert_with(|| Value::String((*sensor).to_owned()));
                hearth_json(&Value::Object(reading), received_ms)?
            }
        },
        Topic::Hearth(None) => hearth_json(&serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?, received_ms)?,
    };
    for reading in &readings {
        check_incoming(0, &reading.reading, received_ms).map_err(|e| format!("sensor {:?}: {e}", reading.reading.key))?;
    }
    Ok(Message::Readings(readings))
}

fn object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("the payload is not a JSON object".into()),
        Err(e) => Err(format!("malformed JSON: {e}")),
    }
}

fn on_off(text: &str) -> Result<f64, String> {
    match text.to_ascii_uppercase().as_str() {
        "ON" | "TRUE" | "1" => Ok(1.0),
        "OFF" | "FALSE" | "0" => Ok(0.0),
        _ => Err(format!("{text:?} is neither ON nor OFF")),
    }
}

fn stated(key: String, value: f64, at_ms: i64, kind: Kind) -> Foreign {
    Foreign { reading: Incoming { key, value, at_ms, kind: Some(kind), room: None }, guessed: false, origin: 0 }
}

/// Tasmota's `SENSOR`/`STATE` JSON: `ENERGY.Power` → `power` (W), `ENERGY.Total` → `energy`
/// (kWh), `<Sensor>.Temperature`/`.Humidity` → `<sensor>.temperature`/`.humidity` (°F converted
/// when `TempUnit` is F), `POWER<n>` → `switch<n>`. `Time` without an offset is house time.
fn tasmota_telemetry(json: &Map<String, Value>, received_ms: i64, zone: &HouseZone) -> Result<Vec<Foreign>, String> {
    let at_ms = match json.get("Time").and_then(Value::as_str) {
        Some(time) => tasmota_time(time, zone)?,
        None => received_ms,
    };
    let fahrenheit = json.get("TempUnit").and_then(Value::as_str) == Some("F");
    let mut out = Vec::new();
    let numbers = |key: &str, value: &Value, kind: Kind, out: &mut Vec<Foreign>| match value {
        Value::Number(n) => out.extend(n.as_f64().map(|v| stated(key.to_owned(), v, at_ms, kind))),
        Value::Array(values) => {
            for (i, v) in values.iter().enumerate() {
                out.extend(v.as_f64().map(|v| stated(format!("{key}{}", i + 1), v, at_ms, kind)));
            }
        }
        _ => {}
    };
    for (name, value) in json {
        match (name.as_str(), value) {
            ("ENERGY", Value::Object(energy)) => {
                if let Some(power) = energy.get("Power") {
                    numbers("power", power, Kind::Power, &mut out);
                }
                if let Some(total) = energy.get("Total") {
                    numbers("energy", total, Kind::Energy, &mut out);
                }
                // Two-way meters: the energy fed into the grid, kWh.
                if let Some(export) = energy.get("ExportActive") {
                    numbers("export", export, Kind::Energy, &mut out);
                }
            }
            (power, Value::String(state)) if power.starts_with("POWER") && power[5..].bytes().all(|b| b.is_ascii_digit()) => {
                out.push(stated(format!("switch{}", &power[5..]), on_off(state)?, at_ms, Kind::Switch));
            }
            (sensor, Value::Object(fields)) => {
                let base = key_part(sensor);
                if let Some(t) = fields.get("Temperature").and_then(Value::as_f64) {
                    let celsius = if fahrenheit { (t - 32.0) * 5.0 / 9.0 } else { t };
                    out.push(stated(format!("{base}.temperature"), (celsius * 100.0).round() / 100.0, at_ms, Kind::Temperature));
                }
                if let Some(h) = fields.get("Humidity").and_then(Value::as_f64) {
                    out.push(stated(format!("{base}.humidity"), h, at_ms, Kind::Humidity));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Tasmota's `Time`: with an offset it is that instant; without one, a local time of the house.
fn tasmota_time(time: &str, zone: &HouseZone) -> Result<i64, String> {
    if let Ok(instant) = time.parse::<jiff::Timestamp>() {
        return Ok(instant.as_millisecond());
    }
    let local: jiff::civil::DateTime = time.parse().map_err(|_| format!("Time {time:?} is not an ISO 8601 time"))?;
    local
        .to_zoned(zone.0.clone())
        .map(|zoned| zoned.timestamp().as_millisecond())
        .map_err(|e| format!("Time {time:?}: {e}"))
}

/// A Shelly Gen2 component status: `switch:<n>` and `pm1:<n>` give `<component>.switch`
/// (`output`), `.power` (`apower`, W), `.energy` (`aenergy.total`, Wh → kWh), `.export`
/// (`ret_aenergy.total`, returned energy, Wh → kWh) and `.temperature` (`temperature.tC`);
/// the energy meters' `em:<n>` and `em1:<n>` give `.power` (`total_act_power`, `act_power`),
/// `emdata:<n>` and `em1data:<n>` `.energy` and `.export` (`total_act`/`total_act_energy` and
/// `total_act_ret`/`total_act_ret_energy`, Wh → kWh); `temperature:<n>` gives `tC`,
/// `humidity:<n>` gives `rh`.
fn shelly_status(component: &str, json: &Map<String, Value>, at_ms: i64) -> Vec<Foreign> {
    let base = key_part(component);
    let kind_of = component.split(':').next().unwrap_or("");
    let mut out = Vec::new();
    let mut push = |field: &str, value: Option<f64>, kind: Kind| {
        if let Some(value) = value {
            out.push(stated(format!("{base}.{field}"), value, at_ms, kind));
        }
    };
    match kind_of {
        "switch" | "pm1" => {
            push("switch", json.get("output").and_then(Value::as_bool).map(|on| f64::from(u8::from(on))), Kind::Switch);
            push("power", json.get("apower").and_then(Value::as_f64), Kind::Power);
            let total = json.get("aenergy").and_then(|e| e.get("total")).and_then(Value::as_f64);
            push("energy", total.map(|wh| wh / 1000.0), Kind::Energy);
            let returned = json.get("ret_aenergy").and_then(|e| e.get("total")).and_then(Value::as_f64);
            push("export", returned.map(|wh| wh / 1000.0), Kind::Energy);
            let celsius = json.get("temperature").and_then(|t| t.get("tC")).and_then(Value::as_f64);
            push("temperature", celsius, Kind::Temperature);
        }
        "em" => push("power", json.get("total_act_power").and_then(Value::as_f64), Kind::Power),
        "em1" => push("power", json.get("act_power").and_then(Value::as_f64), Kind::Power),
        "emdata" | "em1data" => {
            let wh = |fields: [&str; 2]| fields.iter().find_map(|f| json.get(*f).and_then(Value::as_f64)).map(|wh| wh / 1000.0);
            push("energy", wh(["total_act", "total_act_energy"]), Kind::Energy);
            push("export", wh(["total_act_ret", "total_act_ret_energy"]), Kind::Energy);
        }
        "temperature" => push("temperature", json.get("tC").and_then(Value::as_f64), Kind::Temperature),
        "humidity" => push("humidity", json.get("rh").and_then(Value::as_f64), Kind::Humidity),
        _ => {}
    }
    out
}

/// Hearth's own JSON, as the ingest endpoint takes it.
fn hearth_json(json: &Value, received_ms: i64) -> Result<Vec<Foreign>, String> {
    let bytes = serde_json::to_vec(json).map_err(|e| e.to_string())?;
    let readings = crate::ingest::parse(&bytes, received_ms).map_err(|e| match e {
        Error::Invalid { message, field: Some(field), .. } => format!("{field}: {message}"),
        e => e.to_string(),
    })?;
    Ok(readings.into_iter().map(|reading| Foreign { reading, guessed: false, origin: 0 }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    fn zone() -> HouseZone {
        HouseZone::named("Europe/Berlin").unwrap()
    }

    fn readings(topic: &str, payload: &str) -> Vec<(String, f64, i64, Option<Kind>)> {
        match read(&route(topic).unwrap(), payload.as_bytes(), NOW, &zone()) {
            Ok(Message::Readings(r)) => r.into_iter().map(|f| (f.reading.key, f.reading.value, f.reading.at_ms, f.reading.kind)).collect(),
            other => panic!("{topic}: {other:?}"),
        }
    }

    #[test]
    fn topics_name_their_protocol_and_prefix() {
        let r = |topic| route(topic).map(|r| (r.protocol, r.prefix));
        assert_eq!(r("tele/pow1/SENSOR"), Some(("tasmota", "pow1")));
        assert_eq!(r("stat/pow1/POWER2"), Some(("tasmota", "pow1")));
        assert_eq!(r("tele/pow1/LWT"), Some(("tasmota", "pow1")));
        assert_eq!(r("emoncms/ch2i/factory/denky_D6C0C0/tele/SENSOR"), Some(("tasmota", "emoncms/ch2i/factory/denky_D6C0C0")));
        assert_eq!(r("shellyplus1pm-a8032ab12345/status/switch:0"), Some(("shelly", "shellyplus1pm-a8032ab12345")));
        assert_eq!(r("shellyplus1pm-a8032ab12345/online"), Some(("shelly", "shellyplus1pm-a8032ab12345")));
        assert_eq!(r("livingroom/sensor/livingroom_temperature/state"), Some(("esphome", "livingroom")));
        assert_eq!(r("home/porch/binary_sensor/door/state"), Some(("esphome", "home/porch")));
        assert_eq!(r("livingroom/status"), Some(("esphome", "livingroom")));
        assert_eq!(r("hearth/cellar/cellar.temp"), Some(("hearth", "cellar")));
        assert_eq!(r("hearth/cellar"), Some(("hearth", "cellar")));
        for ignored in ["cmnd/pow1/POWER", "zigbee2mqtt/bulb", "stat/pow1/RESULT", "hearth/a/b/c", "status", "/status"] {
            assert_eq!(route(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn tasmota_energy_and_sensors_are_read_in_house_time() {
        // docs/devices/Sonoff-Pow-R2.md in tasmota/docs.
        let pow = r#"{"Time":"2018-02-15T17:37:10","ENERGY":{"TotalStartTime":"2018-11-14T18:39:40","Total":6.294,"Yesterday":5.340,"Today":0.954,"Period":217,"Power":2635,"ApparentPower":2650,"ReactivePower":282,"Factor":0.99,"Voltage":227,"Current":11.661}}"#;
        let at = 1_518_712_630_000; // 2018-02-15T16:37:10Z: Berlin is UTC+1 in February.
        assert_eq!(
            readings("tele/pow1/SENSOR", pow),
            [("power".into(), 2635.0, at, Some(Kind::Power)), ("energy".into(), 6.294, at, Some(Kind::Energy))]
        );
        // docs/DS18x20.md.
        let ds = r#"{"Time":"2021-01-02T09:09:44","DS18B20-1":{"Id":"00000566CC39","Temperature":13.3},"DS18B20-2":{"Id":"0000059352D4","Temperature":1.2},"DS18B20-3":{"Id":"000005937C90","Temperature":22.5},"TempUnit":"C"}"#;
        let keys: Vec<String> = readings("tele/cellar/SENSOR", ds).into_iter().map(|r| r.0).collect();
        assert_eq!(keys, ["ds18b20-1.temperature", "ds18b20-2.temperature", "ds18b20-3.temperature"]);
        let f = readings("tele/t/SENSOR", r#"{"SI7021":{"Temperature":68.0,"Humidity":40},"TempUnit":"F"}"#);
        assert_eq!(f[0], ("si7021.temperature".into(), 20.0, NOW, Some(Kind::Temperature)));
        assert_eq!(readings("stat/pow1/POWER", "ON"), [("switch".into(), 1.0, NOW, Some(Kind::Switch))]);
        // docs/DeepSleep.md: a STATE whose Time carries an offset.
        let state = r#"{"Time":"2021-06-27T15:03:44+02:00","Uptime":"0T00:00:13","POWER":"ON","Wifi":{"AP":1,"RSSI":86}}"#;
        assert_eq!(readings("tele/demo-sensor/STATE", state), [("switch".into(), 1.0, 1_624_799_024_000, Some(Kind::Switch))]);
    }

    #[test]
    fn two_way_meters_give_import_and_export_counters() {
        let emdata = r#"{"id":0,"a_total_act_energy":100.5,"total_act":2950.52,"total_act_ret":1200.25}"#;
        let json: Map<String, Value> = serde_json::from_str(emdata).unwrap();
        let got: Vec<(String, f64)> = shelly_status("emdata:0", &json, 0).into_iter().map(|f| (f.reading.key, f.reading.value)).collect();
        assert_eq!(got, [("emdata_0.energy".to_owned(), 2.95052), ("emdata_0.export".to_owned(), 1.20025)]);
        let em: Map<String, Value> = serde_json::from_str(r#"{"id":0,"total_act_power":-812.4}"#).unwrap();
        assert_eq!(shelly_status("em:0", &em, 0)[0].reading.value, -812.4);
        let tasmota: Map<String, Value> = serde_json::from_str(r#"{"ENERGY":{"Total":120.5,"ExportActive":33.25,"Power":-420}}"#).unwrap();
        let got: Vec<(String, f64)> = tasmota_telemetry(&tasmota, 1, &HouseZone::utc()).unwrap().into_iter().map(|f| (f.reading.key, f.reading.value)).collect();
        assert!(got.contains(&("export".to_owned(), 33.25)) && got.contains(&("energy".to_owned(), 120.5)), "{got:?}");
    }

    #[test]
    fn shelly_status_gives_switch_power_energy_and_temperature() {
        // howto/switch-read.js in ALLTERCO/shelly-script-examples.
        let status = r#"{"temperature":{"tF":121.1,"tC":49.5},"aenergy":{"minute_ts":1632600459,"by_minute":[0,0,0],"total":0.134},"current":0,"voltage":238.215,"apower":0,"output":false,"source":"switch","id":0}"#;
        let got = readings("shellyplus1pm-a8032ab12345/status/switch:0", status);
        assert_eq!(
            got,
            [
                ("switch_0.switch".into(), 0.0, NOW, Some(Kind::Switch)),
                ("switch_0.power".into(), 0.0, NOW, Some(Kind::Power)),
                ("switch_0.energy".into(), 0.000134, NOW, Some(Kind::Energy)),
                ("switch_0.temperature".into(), 49.5, NOW, Some(Kind::Temperature)),
            ]
        );
        assert!(readings("shellyplus1pm-a8032ab12345/status/sys:0", "{}").is_empty());
    }

    #[test]
    fn esphome_and_hearth_topics_carry_plain_values() {
        assert_eq!(readings("lr/sensor/living_room_temperature/state", "21.5"), [("living_room_temperature".into(), 21.5, NOW, Some(Kind::Temperature))]);
        assert_eq!(readings("lr/sensor/wifi_signal/state", "-61"), [("wifi_signal".into(), -61.0, NOW, None)]);
        assert!(readings("lr/sensor/living_room_temperature/state", "nan").is_empty());
        assert_eq!(readings("lr/binary_sensor/front_door/state", "ON"), [("front_door".into(), 1.0, NOW, Some(Kind::Switch))]);
        assert_eq!(readings("hearth/cellar/cellar.temp", "12.5"), [("cellar.temp".into(), 12.5, NOW, Some(Kind::Temperature))]);
        let json = readings("hearth/cellar/cellar.t2", r#"{"value": 13, "kind": "temperature", "room": "Cellar"}"#);
        assert_eq!(json, [("cellar.t2".into(), 13.0, NOW, Some(Kind::Temperature))]);
    }

    #[test]
    fn online_states_and_bad_payloads() {
        let online = |topic, payload: &str| read(&route(topic).unwrap(), payload.as_bytes(), NOW, &zone());
        assert_eq!(online("tele/pow1/LWT", "Offline"), Ok(Message::Online(false)));
        assert_eq!(online("shelly1/online", "true"), Ok(Message::Online(true)));
        assert_eq!(online("lr/status", "online"), Ok(Message::Online(true)));
        for (topic, payload) in [
            ("tele/pow1/SENSOR", "not json"),
            ("stat/pow1/POWER", "MAYBE"),
            ("lr/sensor/t/state", "warm"),
            ("hearth/cellar/Cellar Temp", "12"),
            ("hearth/cellar", r#"{"sensor":"t","value":1,"kind":"pressure"}"#),
            ("tele/pow1/LWT", "Sleeping"),
            ("tele/pow1/SENSOR", r#"{"Time":"yesterday","AM2301":{"Temperature":20}}"#),
        ] {
            assert!(online(topic, payload).is_err(), "{topic} {payload}");
        }
    }
}
