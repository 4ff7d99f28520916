-- Views need a sensor's display name, whether it is the whole-house meter, and each rollup
-- bucket's consumption: the sum of the positive steps between its consecutive readings (a
-- drop is a counter reset and counts 0).
alter table sensor add column name text;
alter table sensor add column main boolean not null default false;
update sensor set main = true where key like 'house.%' or key like 'main.%';

alter table rollup add column value_increase double precision not null default 0;

-- 1-minute buckets from the raw readings, where all of a bucket's readings are still there.
update rollup set value_increase = inc.increase
from (
    select sensor_id, bucket_ms, count(*) as n, sum(case when step > 0 then step else 0 end) as increase
    from (select sensor_id, at_ms - at_ms % 60000 as bucket_ms,
                 value - lag(value) over (partition by sensor_id, at_ms - at_ms % 60000 order by at_ms) as step
          from reading) s
    group by sensor_id, bucket_ms
) inc
where rollup.tier_ms = 60000 and rollup.sensor_id = inc.sensor_id and rollup.bucket_ms = inc.bucket_ms
  and rollup.value_count = inc.n;

-- 10-minute and hourly buckets from the 1-minute ones: their increases plus the steps between
-- consecutive minutes, where every minute of the bucket is still there.
update rollup set value_increase = inc.increase
from (
    select sensor_id, tier_ms, bucket_ms, sum(value_count) as n,
           sum(value_increase + case when step > 0 then step else 0 end) as increase
    from (select m.sensor_id, t.tier_ms, m.bucket_ms - m.bucket_ms % t.tier_ms as bucket_ms, m.value_count,
                 m.value_increase,
                 m.first_value - lag(m.last_value) over (partition by m.sensor_id, t.tier_ms,
                     m.bucket_ms - m.bucket_ms % t.tier_ms order by m.bucket_ms) as step
          from rollup m cross join (select 600000 as tier_ms union all select 3600000) t
          where m.tier_ms = 60000) s
    group by sensor_id, tier_ms, bucket_ms
) inc
where rollup.sensor_id = inc.sensor_id and rollup.tier_ms = inc.tier_ms and rollup.bucket_ms = inc.bucket_ms
  and rollup.value_count = inc.n;
