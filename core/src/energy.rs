//! Where the house's energy comes from. A sensor may play an energy [`Role`] (house
//! consumption, grid import or export, solar production, battery charge or discharge, the
//! battery's state of charge); from the roles that are metered Hearth derives the rest
//! ([`Metered::balance`]) and how energy flowed between grid, solar, battery and house
//! ([`Balance::flows`]), per interval, so that a sunny noon and a dark evening are never
//! averaged into one another.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::AddAssign;
use std::str::FromStr;

/// The part a sensor plays in the house's energy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// What the house consumes (the whole-house meter).
    House,
    /// Drawn from the grid.
    GridImport,
    /// Fed into the grid.
    GridExport,
    /// Produced by solar panels.
    Solar,
    /// Put into the home battery.
    BatteryCharge,
    /// Taken from the home battery.
    BatteryDischarge,
    /// The home battery's state of charge (a `battery` sensor, %).
    BatterySoc,
}

impl Role {
    /// Every role, in the order the pages list them.
    pub const ALL: [Role; 7] =
        [Role::House, Role::GridImport, Role::GridExport, Role::Solar, Role::BatteryCharge, Role::BatteryDischarge, Role::BatterySoc];

    /// The name used in the API and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::House => "house",
            Role::GridImport => "grid_import",
            Role::GridExport => "grid_export",
            Role::Solar => "solar",
            Role::BatteryCharge => "battery_charge",
            Role::BatteryDischarge => "battery_discharge",
            Role::BatterySoc => "battery_soc",
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Role::House => "House consumption",
            Role::GridImport => "Grid import",
            Role::GridExport => "Grid export",
            Role::Solar => "Solar production",
            Role::BatteryCharge => "Battery charge",
            Role::BatteryDischarge => "Battery discharge",
            Role::BatterySoc => "Battery state of charge",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!("unknown role {s:?}: expected house, grid_import, grid_export, solar, battery_charge, battery_discharge or battery_soc")
        })
    }
}

/// Energy of each role over one interval, in kWh (or W for power), `None` where no sensor
/// plays the role.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metered {
    /// House consumption.
    pub house: Option<f64>,
    /// Grid import.
    pub import: Option<f64>,
    /// Grid export.
    pub export: Option<f64>,
    /// Solar production.
    pub solar: Option<f64>,
    /// Battery charge.
    pub charge: Option<f64>,
    /// Battery discharge.
    pub discharge: Option<f64>,
}

impl Metered {
    /// Adds `value` to the figure of `role` (state of charge is not a flow: ignored).
    pub fn add(&mut self, role: Role, value: f64) {
        let slot = match role {
            Role::House => &mut self.house,
            Role::GridImport => &mut self.import,
            Role::GridExport => &mut self.export,
            Role::Solar => &mut self.solar,
            Role::BatteryCharge => &mut self.charge,
            Role::BatteryDischarge => &mut self.discharge,
            Role::BatterySoc => return,
        };
        *slot = Some(slot.unwrap_or(0.0) + value);
    }

    /// Adds a reading of a meter that may run both ways: a negative grid import is an
    /// export (a Shelly EM's or Tasmota's signed power), a negative battery discharge a
    /// charge, and the other way round.
    pub fn add_signed(&mut self, role: Role, value: f64) {
        let opposite = match role {
            Role::GridImport => Role::GridExport,
            Role::GridExport => Role::GridImport,
            Role::BatteryCharge => Role::BatteryDischarge,
            Role::BatteryDischarge => Role::BatteryCharge,
            other => other,
        };
        if value < 0.0 && opposite != role {
            self.add(role, 0.0);
            self.add(opposite, -value);
        } else {
            self.add(role, value);
        }
    }

    /// The interval's balance: what is metered, and what is not derived from the rest. House
    /// consumption = import + solar − export + discharge − charge; where the house is metered
    /// and the grid import is not, import = house − solar + export − discharge + charge (with
    /// only a house meter, the house's consumption). Neither derived figure goes below 0.
    pub fn balance(&self) -> Balance {
        let solar = self.solar.unwrap_or(0.0);
        let export = self.export.unwrap_or(0.0);
        let charge = self.charge.unwrap_or(0.0);
        let discharge = self.discharge.unwrap_or(0.0);
        let (import, consumption) = match (self.import, self.house) {
            (Some(import), Some(house)) => (import, house),
            (Some(import), None) => (import, (import + solar - export + discharge - charge).max(0.0)),
            (None, Some(house)) => ((house - solar + export - discharge + charge).max(0.0), house),
            (None, None) => (0.0, (solar - export + discharge - charge).max(0.0)),
        };
        Balance { import, export, solar, charge, discharge, consumption }
    }
}

/// One interval's energy with nothing missing: metered or derived, kWh (or W).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// Drawn from the grid.
    pub import: f64,
    /// Fed into the grid.
    pub export: f64,
    /// Produced by solar.
    pub solar: f64,
    /// Into the battery.
    pub charge: f64,
    /// Out of the battery.
    pub discharge: f64,
    /// Used by the house.
    pub consumption: f64,
}

/// How energy went from where it came from to where it was used, kWh (or W).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flows {
    /// Grid → house.
    pub grid_to_house: f64,
    /// Solar → house.
    pub solar_to_house: f64,
    /// Battery → house.
    pub battery_to_house: f64,
    /// Solar → grid (export of solar).
    pub solar_to_grid: f64,
    /// Solar → battery.
    pub solar_to_battery: f64,
    /// Grid → battery.
    pub grid_to_battery: f64,
    /// Battery → grid.
    pub battery_to_grid: f64,
}

impl AddAssign for Flows {
    fn add_assign(&mut self, o: Flows) {
        self.grid_to_house += o.grid_to_house;
        self.solar_to_house += o.solar_to_house;
        self.battery_to_house += o.battery_to_house;
        self.solar_to_grid += o.solar_to_grid;
        self.solar_to_battery += o.solar_to_battery;
        self.grid_to_battery += o.grid_to_battery;
        self.battery_to_grid += o.battery_to_grid;
    }
}

impl Flows {
    /// Solar used by the house, now or through the battery: solar not exported.
    pub fn self_consumption(&self) -> f64 {
        self.solar_to_house + self.solar_to_battery
    }

    /// The share of the house's consumption not drawn from the grid (0 to 1), `None` when
    /// it consumed nothing.
    pub fn self_sufficiency(&self) -> Option<f64> {
        let used = self.grid_to_house + self.solar_to_house + self.battery_to_house;
        (used > 0.0).then(|| ((self.solar_to_house + self.battery_to_house) / used).clamp(0.0, 1.0))
    }
}

impl Balance {
    /// The flows of the interval, keeping the meters' figures: exports come from solar
    /// before the battery, the battery is charged from solar before the grid, and the rest
    /// of solar, the rest of the discharge and the rest of the import went to the house.
    /// (Within one interval the meters cannot tell more.)
    pub fn flows(&self) -> Flows {
        let solar_to_grid = self.export.min(self.solar).max(0.0);
        let battery_to_grid = (self.export - solar_to_grid).min(self.discharge).max(0.0);
        let solar_to_battery = self.charge.min(self.solar - solar_to_grid).max(0.0);
        let grid_to_battery = (self.charge - solar_to_battery).min(self.import).max(0.0);
        let solar_to_house = (self.solar - solar_to_grid - solar_to_battery).max(0.0);
        let battery_to_house = (self.discharge - battery_to_grid).max(0.0);
        let grid_to_house = (self.import - grid_to_battery).max(0.0);
        Flows { grid_to_house, solar_to_house, battery_to_house, solar_to_grid, solar_to_battery, grid_to_battery, battery_to_grid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("grid".parse::<Role>().is_err());
    }

    #[test]
    fn house_consumption_is_derived_where_not_metered() {
        let m = Metered { import: Some(2.0), export: Some(1.0), solar: Some(5.0), charge: Some(1.5), discharge: Some(0.5), house: None };
        assert_eq!(m.balance().consumption, 2.0 + 5.0 - 1.0 + 0.5 - 1.5);
        // Only a house meter: the grid gave all of it.
        let only_house = Metered { house: Some(3.0), ..Metered::default() };
        assert_eq!(only_house.balance().import, 3.0);
        let house_and_solar = Metered { house: Some(3.0), solar: Some(4.0), export: Some(2.0), ..Metered::default() };
        assert_eq!(house_and_solar.balance().import, 1.0);
    }

    #[test]
    fn flows_add_up_to_what_was_metered() {
        let m = Metered { import: Some(1.0), export: Some(2.0), solar: Some(6.0), charge: Some(1.0), discharge: Some(0.0), house: None };
        let b = m.balance();
        let f = b.flows();
        assert_eq!(b.consumption, 4.0);
        // The grid's meters are kept: all of the export is solar's, all of the import the house's.
        assert_eq!((f.solar_to_grid, f.solar_to_battery, f.solar_to_house, f.grid_to_house), (2.0, 1.0, 3.0, 1.0));
        assert_eq!(f.grid_to_house + f.solar_to_house + f.battery_to_house, b.consumption);
        assert_eq!(f.solar_to_house + f.solar_to_battery + f.solar_to_grid, b.solar);
        assert_eq!(f.self_sufficiency(), Some(0.75));
        assert_eq!(f.self_consumption(), 4.0);
        let evening = Metered { import: Some(1.0), discharge: Some(3.0), ..Metered::default() }.balance().flows();
        assert_eq!((evening.grid_to_house, evening.battery_to_house), (1.0, 3.0));
        assert_eq!(evening.self_sufficiency(), Some(0.75));
        assert_eq!(Metered::default().balance().flows().self_sufficiency(), None);
        // A signed grid meter reading −800 W is exporting.
        let mut now = Metered::default();
        now.add_signed(Role::GridImport, -800.0);
        now.add_signed(Role::Solar, 1200.0);
        let b = now.balance();
        assert_eq!((b.import, b.export, b.consumption), (0.0, 800.0, 400.0));
    }
}
