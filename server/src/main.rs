//! The `hearth` binary: serve, manage devices, simulate a house.

use hearth_store::Db;
use clap::Parser;
use hearth::config::{Cli, Command, DeviceCommand, ExportArgs, ImportArgs, ServeArgs, SimulateArgs};
use hearth::{AppState, serve, shutdown_signal, simulate};
use leptos::prelude::get_configuration;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The account `--simulate` logs in as.
const DEMO_ACCOUNT: &str = "demo";

#[tokio::main]
async fn main() -> ExitCode {
    give_back_large_allocations();
    let log = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::registry()
        .with(log.with_filter(filter))
        .with(hearth::metrics::PoolWaits.with_filter(hearth::metrics::pool_waits_filter()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => run_server(&cli.database_url.0, args).await,
        Command::Device(command) => device(&cli.database_url.0, command).await,
        Command::Simulate(args) => simulate::run(args).await.map_err(Into::into),
        Command::Export(args) => export(&cli.database_url.0, args).await,
        Command::Import(args) => import(&cli.database_url.0, args).await,
        Command::Backup { file } => backup(&cli.database_url.0, &file).await,
        Command::Restore { file } => restore(&cli.database_url.0, &file).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hearth: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Makes glibc serve every allocation of 128 KiB or more (a compressed response's window, a
/// chart's points) from a mapping of its own, unmapped when freed. By default glibc raises
/// that threshold after the first such free and serves the later ones from its per-thread
/// arenas, which keep what they are given back: the server held 166 MiB after 1,000 loads of
/// every view, 83 MiB after 500 with the threshold fixed (BENCHMARKS.md). An operator's own
/// `MALLOC_MMAP_THRESHOLD_` is left as set.
fn give_back_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets a tuning parameter of the C allocator; it takes no pointer.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}

async fn run_server(database_url: &str, args: ServeArgs) -> Result<(), BoxError> {
    let mut options = get_configuration(None)?.leptos_options;
    options.hash_files = hearth::cache::hashed_names(&options);
    let db = Db::connect_with(database_url, args.config.store()).await?;
    let _serving = hearth_store::backup::serving_lock(database_url)?;
    let listener = tokio::net::TcpListener::bind(options.site_addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = db.backend(), "Hearth is listening on http://{addr}");
    if args.simulate {
        let password = args.demo_password.clone().unwrap_or_else(|| hearth_store::device::new_token()[4..20].to_owned());
        hearth_store::account::set_password(&db, DEMO_ACCOUNT, &password).await?;
        tracing::info!("Demo account: log in at http://{addr}/login as {DEMO_ACCOUNT:?} with password {password:?}");
        let (house, token) = hearth_store::device::rotate_token(&db, "simulated-house").await?;
        let sim = SimulateArgs {
            url: format!("http://{addr}"),
            token,
            interval: 5.0,
            backfill_days: 30,
            timezone: Some(args.config.zone()),
            latitude: args.latitude,
        };
        tokio::spawn(async move {
            if let Err(e) = simulate::run(sim).await {
                tracing::error!(error = %e, "the simulated house stopped");
            }
        });
        let demo_db = db.clone();
        tokio::spawn(async move {
            if let Err(e) = demo_energy(&demo_db).await {
                tracing::warn!(error = %e, "the demo's tariff and energy roles were not set");
            }
            if let Err(e) = demo_rules(&demo_db, house.device_id).await {
                tracing::warn!(error = %e, "the demo's alert rules were not added");
            }
        });
    }
    let state = AppState::new(options, db.clone(), args.config);
    serve(listener, state, shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

/// Alert rules a homeowner of the simulated house would set, added once the simulator has
/// posted its history up to now (so that the backfill is not judged as the house going
/// silent) when there is no rule yet: the house going silent, a
/// leak by flow or at night, and a cold office.
async fn demo_rules(db: &Db, house_id: i64) -> Result<(), BoxError> {
    use hearth_core::alert::{NewRule, RuleKind};
    if !hearth_store::alert::rules(db).await?.is_empty() {
        return Ok(());
    }
    let find = |sensors: &[hearth_core::sensor::Listed], key: &str| {
        sensors.iter().find(|l| l.sensor.device == "simulated-house" && l.sensor.key == key).cloned()
    };
    let mut sensors = Vec::new();
    for _ in 0..300 {
        sensors = hearth_store::sensor::list_all(db).await?;
        let recent = |l: hearth_core::sensor::Listed| l.last_at_ms.is_some_and(|at| at > hearth_core::time::now_ms() - 60_000);
        if ["house.flow", "house.water", "office.temperature"].iter().all(|k| find(&sensors, k).is_some_and(recent)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let sensor = |sensors: &[hearth_core::sensor::Listed], key: &str| find(sensors, key).map(|l| l.sensor.sensor_id);
    let rule = |kind, sensor_id, threshold, minutes| NewRule { kind, sensor_id, device_id: None, threshold, margin: None, minutes, factor: None };
    let rules = [
        NewRule { device_id: Some(house_id), factor: Some(3.0), ..rule(RuleKind::Offline, None, None, None) },
        rule(RuleKind::LeakFlow, sensor(&sensors, "house.flow"), None, Some(30)),
        rule(RuleKind::LeakNight, sensor(&sensors, "house.water"), Some(20.0), None),
        NewRule { margin: Some(0.5), ..rule(RuleKind::Below, sensor(&sensors, "office.temperature"), Some(17.0), Some(30)) },
    ];
    for new in rules.iter().filter(|r| r.kind == RuleKind::Offline || r.sensor_id.is_some()) {
        hearth_store::alert::insert_rule(db, new).await?;
    }
    Ok(())
}

async fn import(database_url: &str, args: ImportArgs) -> Result<(), BoxError> {
    use hearth::import::{ImportError, ImportQuery};
    let query = ImportQuery { device: args.device, sensor: args.sensor, kind: args.kind, room: args.room };
    let target = query.target()?;
    let zone = args.timezone.unwrap_or_else(hearth_core::time::house::HouseZone::system);
    let db = Db::connect(database_url).await?;
    let terminal = std::io::stderr().is_terminal();
    let mut shown = (String::new(), 0);
    let result = hearth::import::import(&db, &zone, &args.file, target.as_ref(), |p| {
        let percent = if p.total == 0 { 100 } else { p.bytes * 100 / p.total };
        if terminal {
            eprint!("\r{} {percent:>3}%", p.phase);
        } else if (p.phase, percent / 10) != (shown.0.as_str(), shown.1) {
            eprintln!("{} {percent}%", p.phase);
            shown = (p.phase.to_owned(), percent / 10);
        }
    })
    .await;
    if terminal {
        eprintln!();
    }
    db.close().await;
    match result {
        Ok(s) => {
            eprintln!("{} readings: {} stored, {} already there", s.rows, s.stored, s.duplicates);
            for device in s.devices_created {
                eprintln!("Device {device:?} created for the imported readings");
            }
            Ok(())
        }
        Err(ImportError::Refused { rows, count }) => {
            for row in &rows {
                eprintln!("line {}: {}: {}", row.line, row.field, row.message);
            }
            if count > rows.len() as u64 {
                eprintln!("… and {} more", count - rows.len() as u64);
            }
            Err(format!("refused rows: {count}; nothing was stored").into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn backup(database_url: &str, file: &std::path::Path) -> Result<(), BoxError> {
    hearth_store::backup::sqlite_file(database_url)?;
    let db = Db::connect(database_url).await?;
    let done = hearth_store::backup::backup(&db, file).await;
    db.close().await;
    done?;
    eprintln!("Backed up to {}", file.display());
    Ok(())
}

async fn restore(database_url: &str, file: &std::path::Path) -> Result<(), BoxError> {
    hearth_store::backup::restore(database_url, file).await?;
    eprintln!("Restored {} to {database_url}", file.display());
    Ok(())
}

async fn export(database_url: &str, args: ExportArgs) -> Result<(), BoxError> {
    let db = Db::connect(database_url).await?;
    let zone = args.timezone.unwrap_or_else(hearth_core::time::house::HouseZone::system);
    let query = hearth::export::CsvQuery { from: args.from, to: args.to, tier: args.tier, kind: args.kind };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = hearth::export::write_to(db.clone(), zone, query, args.sensor, &mut out).await;
    db.close().await;
    Ok(written?)
}

/// The simulated house's energy roles (set on its sensors that have none, once they exist)
/// and, when no tariff is set, a time-of-use tariff with a standing charge, export, gas and
/// water, so that costs and flows show from the start.
async fn demo_energy(db: &Db) -> Result<(), BoxError> {
    use hearth_core::energy::Role;
    use hearth_core::sensor::SensorUpdate;
    let roles = [
        ("solar.energy", Role::Solar, "Solar"),
        ("solar.power", Role::Solar, "Solar"),
        ("grid.import", Role::GridImport, "Grid import"),
        ("grid.import_power", Role::GridImport, "Grid import"),
        ("grid.export", Role::GridExport, "Grid export"),
        ("grid.export_power", Role::GridExport, "Grid export"),
        ("battery.charge", Role::BatteryCharge, "Battery charge"),
        ("battery.charge_power", Role::BatteryCharge, "Battery charge"),
        ("battery.discharge", Role::BatteryDischarge, "Battery discharge"),
        ("battery.discharge_power", Role::BatteryDischarge, "Battery discharge"),
        ("battery.soc", Role::BatterySoc, "Battery"),
    ];
    for _ in 0..300 {
        let sensors = hearth_store::sensor::list_all(db).await?;
        let ours: Vec<_> = sensors.iter().filter(|l| l.sensor.device == "simulated-house").collect();
        if roles.iter().all(|(key, _, _)| ours.iter().any(|l| l.sensor.key == *key)) {
            for (key, role, name) in roles {
                if let Some(l) = ours.iter().find(|l| l.sensor.key == key && l.sensor.role.is_none()) {
                    let name = l.sensor.name.is_none().then(|| Some(name.to_owned()));
                    let update = SensorUpdate { role: Some(Some(role)), name, ..SensorUpdate::default() };
                    hearth_store::sensor::update(db, l.sensor.sensor_id, update).await?;
                }
            }
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    if hearth_store::tariff::list(db).await?.is_empty() {
        let tariff = serde_json::json!({
            "from": "2025-01-01", "currency": "EUR",
            "import": {"price": 0.24, "zones": [
                {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "22:00", "to": "08:00", "price": 0.13},
                {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "18:00", "to": "21:00", "price": 0.32}]},
            "standing_per_day": 0.35, "export": {"price": 0.06},
            "gas": {"price": 0.11, "standing_per_day": 0.28, "kwh_per_m3": 11.2},
            "water": {"price_per_m3": 1.90, "standing_per_day": 0.15}});
        let checked = hearth_core::tariff::check(vec![serde_json::from_value(tariff)?], |_| false).map_err(|r| r.message)?;
        hearth_store::tariff::replace(db, checked).await?;
    }
    Ok(())
}

async fn device(database_url: &str, command: DeviceCommand) -> Result<(), BoxError> {
    let db = Db::connect(database_url).await?;
    match command {
        DeviceCommand::Add { name, mqtt_prefix } => {
            let (device, token) = match mqtt_prefix {
                Some(prefix) => hearth_store::mqtt::create_with_prefix(&db, &name, &prefix).await?,
                None => hearth_store::device::create(&db, &name).await?,
            };
            eprintln!("Device {:?} added (id {}). Its token, shown only this once:", device.name, device.device_id);
            println!("{token}");
        }
        DeviceCommand::Apikey { name } => {
            let (device, key) = hearth_store::device::rotate_apikey(&db, &name)
                .await?
                .ok_or_else(|| format!("no device named {name:?}"))?;
            eprintln!("Device {:?} has a new Emoncms API key, shown only this once:", device.name);
            println!("{key}");
        }
        DeviceCommand::List => {
            for device in hearth_store::device::list(&db).await? {
                let state = if device.revoked { "\trevoked" } else { "" };
                println!("{}\t{}{state}", device.device_id, device.name);
            }
        }
        DeviceCommand::Revoke { name } => {
            if !hearth_store::device::revoke(&db, &name).await? {
                return Err(format!("no device named {name:?}").into());
            }
            eprintln!("Device {name:?} revoked: its token is refused from now on.");
        }
    }
    db.close().await;
    Ok(())
}
