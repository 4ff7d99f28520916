//! Sensors and devices on SQLite and PostgreSQL: whole-house meters recognised by their key,
//! names, rooms and the main flag changed by the homeowner, and the devices overview.


use hearth_core::device::Device;
use hearth_core::reading::Incoming;
use hearth_store::reading::store;
use hearth_store::Error;
use hearth_store::sensor::{find, list_all, update};
use hearth_core::sensor::{Kind, SensorUpdate};
use hearth_store::on_both_databases;
use hearth_store::testing::TestDb;

const T0: i64 = 1_764_028_800_000; // 2025-11-25T00:00:00Z

fn reading(key: &str, kind: Kind, at_ms: i64, value: f64) -> Incoming {
    Incoming { key: key.into(), value, at_ms, kind: Some(kind), room: None }
}

async fn device(t: &TestDb, name: &str) -> Device {
    hearth_store::device::create(&t.db, name).await.unwrap().0
}

/// Stores one reading and returns the id of its sensor.
async fn sensor(t: &TestDb, device: &Device, key: &str, kind: Kind, at_ms: i64) -> i64 {
    let outcome = store(&t.db, device, vec![reading(key, kind, at_ms, 1.0)]).await.unwrap();
    outcome.stored[0].sensor.sensor_id
}

async fn house_and_main_keys_make_main_meters(t: TestDb) {
    let meter_box = device(&t, "meter-box").await;
    let house = sensor(&t, &meter_box, "house.energy", Kind::Energy, T0).await;
    let main = sensor(&t, &meter_box, "main.water", Kind::Water, T0).await;
    let plug = sensor(&t, &meter_box, "greenhouse.energy", Kind::Energy, T0).await;
    assert!(find(&t.db, house).await.unwrap().unwrap().main);
    assert!(find(&t.db, main).await.unwrap().unwrap().main);
    assert!(!find(&t.db, plug).await.unwrap().unwrap().main);
    // The flag the store hands to the live stream agrees with the database.
    let again = store(&t.db, &meter_box, vec![reading("house.energy", Kind::Energy, T0 + 1000, 2.0)]).await.unwrap();
    assert!(again.stored[0].sensor.main);
}

async fn names_rooms_and_the_main_flag_can_be_changed(t: TestDb) {
    let kitchen = device(&t, "kitchen").await;
    let id = sensor(&t, &kitchen, "washing_machine.power", Kind::Power, T0).await;
    let before = find(&t.db, id).await.unwrap().unwrap();
    assert_eq!((before.name.as_deref(), before.room.as_deref(), before.main), (None, None, false));
    assert_eq!(before.title(), "Washing machine");

    let change = SensorUpdate { name: Some(Some(" Miele ".into())), room: Some(Some("Utility".into())), main: Some(true), role: None };
    let after = update(&t.db, id, change).await.unwrap();
    assert_eq!((after.name.as_deref(), after.room.as_deref(), after.main), (Some("Miele"), Some("Utility"), true));
    assert_eq!(after.title(), "Miele");

    // Only what is given changes; `Some(None)` clears.
    let clear = SensorUpdate { name: Some(None), room: None, main: Some(false), role: None };
    let cleared = update(&t.db, id, clear).await.unwrap();
    assert_eq!((cleared.name.as_deref(), cleared.room.as_deref(), cleared.main), (None, Some("Utility"), false));

    // A bad text is refused, naming its field, and nothing of the update is applied.
    let bad = SensorUpdate { name: Some(Some("Dryer".into())), room: Some(Some("x".repeat(65))), main: Some(true), role: None };
    match update(&t.db, id, bad).await {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "room"),
        other => panic!("expected an invalid room, got {other:?}"),
    }
    assert_eq!(find(&t.db, id).await.unwrap().unwrap(), cleared);

    assert!(matches!(update(&t.db, 999_999, SensorUpdate::default()).await, Err(Error::NotFound("sensor"))));
    // Later readings carrying a room never move a sensor the homeowner placed.
    let mut moved = reading("washing_machine.power", Kind::Power, T0 + 1000, 5.0);
    moved.room = Some("Garage".into());
    let outcome = store(&t.db, &kitchen, vec![moved]).await.unwrap();
    // The writer's cached sensor was refreshed: the live stream carries the new room.
    assert_eq!(outcome.stored[0].live().room.as_deref(), Some("Utility"));
    let listed = list_all(&t.db).await.unwrap();
    assert_eq!(listed[0].sensor.room.as_deref(), Some("Utility"));
    assert_eq!((listed[0].last_at_ms, listed[0].last_value), (Some(T0 + 1000), Some(5.0)));
}

async fn the_overview_lists_every_device_with_its_sensors(t: TestDb) {
    let hall = device(&t, "hall").await;
    let attic = device(&t, "attic").await;
    let idle = device(&t, "idle").await;
    sensor(&t, &hall, "hall.temp", Kind::Temperature, T0).await;
    sensor(&t, &hall, "hall.humidity", Kind::Humidity, T0 + 5_000).await;
    sensor(&t, &attic, "attic.temp", Kind::Temperature, T0 - 60_000).await;

    let overview = hearth_store::device::overview(&t.db).await.unwrap();
    let names: Vec<&str> = overview.iter().map(|o| o.device.name.as_str()).collect();
    assert_eq!(names, ["attic", "hall", "idle"]);
    let keys = |i: usize| overview[i].sensors.iter().map(|l| l.sensor.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(0), ["attic.temp"]);
    assert_eq!(keys(1), ["hall.humidity", "hall.temp"]);
    assert!(keys(2).is_empty());
    assert_eq!(overview.iter().map(|o| o.last_seen_ms).collect::<Vec<_>>(), [Some(T0 - 60_000), Some(T0 + 5_000), None]);
    assert_eq!(overview[1].device, hall);
    assert!(overview.iter().all(|o| o.created_at_ms > T0));

    assert_eq!(hearth_store::device::find(&t.db, attic.device_id).await.unwrap(), Some(attic));
    assert_eq!(hearth_store::device::find(&t.db, idle.device_id + 1000).await.unwrap(), None);
}

on_both_databases!(
    house_and_main_keys_make_main_meters,
    names_rooms_and_the_main_flag_can_be_changed,
    the_overview_lists_every_device_with_its_sensors,
);
