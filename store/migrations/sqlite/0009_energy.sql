-- Energy roles: the part a sensor plays in the house's energy (house, grid_import,
-- grid_export, solar, battery_charge, battery_discharge, battery_soc); null for none.
alter table sensor add column role text;

-- Tariffs as the homeowner set them, one row per local date it applies from (YYYY-MM-DD,
-- which sorts as dates do); the tariff itself is kept as the JSON the API takes and gives.
create table tariff (
    from_date text primary key,
    body text not null
);
