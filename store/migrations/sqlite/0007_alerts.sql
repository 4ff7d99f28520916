-- Alert rules set on the Alerts page, and the alerts they opened. A rule watches a sensor
-- (above, below, leak_flow, leak_night) or a device (offline); deleting a rule keeps its
-- history (deleted_at_ms) and resolves its open alert.
create table alert_rule (
    alert_rule_id integer primary key,
    kind text not null,
    sensor_id integer references sensor (sensor_id),
    device_id integer references device (device_id),
    -- above/below: the limit; leak_night: the baseline in litres.
    threshold real,
    -- above/below: how far back past the limit a value must be to count as recovered.
    margin real,
    -- above/below/leak_flow: how long the condition must last, in minutes.
    minutes integer,
    -- offline: silence longer than this many times the device's usual interval.
    factor real,
    created_at_ms integer not null,
    deleted_at_ms integer,
    check ((sensor_id is null) <> (device_id is null))
);

-- One row per alert: opened when a rule's condition is met, resolved when it has cleared.
-- Times are those of the readings that decided (offline: the moment the device became
-- overdue).
create table alert (
    alert_id integer primary key,
    alert_rule_id integer not null references alert_rule (alert_rule_id),
    opened_at_ms integer not null,
    resolved_at_ms integer,
    value real not null,
    resolved_value real,
    message text not null,
    unique (alert_rule_id, opened_at_ms)
);

-- At most one open alert per rule, whichever server tries to open it.
create unique index alert_open on alert (alert_rule_id) where resolved_at_ms is null;
create index alert_opened on alert (opened_at_ms);
