create table device (
    device_id bigint generated always as identity primary key,
    name text not null unique,
    token_hash text not null unique,
    created_at_ms bigint not null
);

create table sensor (
    sensor_id bigint generated always as identity primary key,
    device_id bigint not null references device (device_id),
    key text not null,
    kind text not null,
    room text,
    created_at_ms bigint not null,
    unique (device_id, key)
);

create index sensor_kind on sensor (kind);

-- One row per reading; (sensor_id, at_ms) is both the identity that makes retries idempotent
-- and the order range queries read in.
create table reading (
    sensor_id bigint not null references sensor (sensor_id),
    at_ms bigint not null,
    value double precision not null,
    primary key (sensor_id, at_ms)
);
