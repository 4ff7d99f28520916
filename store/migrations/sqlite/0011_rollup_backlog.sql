-- Rollup buckets of readings already committed, not yet merged into `rollup` (SQLite only):
-- a commit appends its buckets here, to the end of one table, instead of rewriting each
-- sensor's newest rollup pages; the writer merges them into `rollup` in bulk, and at start
-- whatever a crash left here.
create table rollup_backlog (
    seq integer primary key,
    sensor_id integer not null,
    tier_ms integer not null,
    bucket_ms integer not null,
    value_count integer not null,
    value_sum real not null,
    value_min real not null,
    value_max real not null,
    first_at_ms integer not null,
    first_value real not null,
    last_at_ms integer not null,
    last_value real not null,
    value_increase real not null
);
