create table device (
    device_id integer primary key,
    name text not null unique,
    token_hash text not null unique,
    created_at_ms integer not null
);

create table sensor (
    sensor_id integer primary key,
    device_id integer not null references device (device_id),
    key text not null,
    kind text not null,
    room text,
    created_at_ms integer not null,
    unique (device_id, key)
);

create index sensor_kind on sensor (kind);

-- One row per reading; (sensor_id, at_ms) is both the identity that makes retries idempotent
-- and the order range queries read in.
create table reading (
    sensor_id integer not null references sensor (sensor_id),
    at_ms integer not null,
    value real not null,
    primary key (sensor_id, at_ms)
) without rowid;
