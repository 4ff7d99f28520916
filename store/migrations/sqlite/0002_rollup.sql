-- Per-sensor aggregates over fixed buckets, kept up to date by every ingest transaction:
-- tier_ms 60000 (1 minute) and 3600000 (1 hour). Range queries read these instead of raw
-- readings when the buckets they want are at least this wide, and they outlive the raw rows.
create table rollup (
    sensor_id integer not null references sensor (sensor_id),
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
    primary key (sensor_id, tier_ms, bucket_ms)
) without rowid;

insert into rollup (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, value_max,
                    first_at_ms, first_value, last_at_ms, last_value)
select r.sensor_id, t.tier_ms, r.at_ms - r.at_ms % t.tier_ms, count(*), sum(r.value), min(r.value),
       max(r.value), min(r.at_ms), 0, max(r.at_ms), 0
from reading r cross join (select 60000 as tier_ms union all select 3600000) t
group by r.sensor_id, t.tier_ms, r.at_ms - r.at_ms % t.tier_ms;

update rollup set
    first_value = (select value from reading where sensor_id = rollup.sensor_id and at_ms = rollup.first_at_ms),
    last_value = (select value from reading where sensor_id = rollup.sensor_id and at_ms = rollup.last_at_ms);
