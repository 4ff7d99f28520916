-- A 10-minute tier between the 1-minute and 1-hour ones, so that ranges of a few weeks read
-- a tenth of the rows; filled from the 1-minute tier.
insert into rollup (sensor_id, tier_ms, bucket_ms, value_count, value_sum, value_min, value_max,
                    first_at_ms, first_value, last_at_ms, last_value)
select sensor_id, 600000, bucket_ms - bucket_ms % 600000, sum(value_count), sum(value_sum),
       min(value_min), max(value_max), min(first_at_ms), 0, max(last_at_ms), 0
from rollup where tier_ms = 60000
group by sensor_id, bucket_ms - bucket_ms % 600000;

update rollup set
    first_value = (select m.first_value from rollup m where m.sensor_id = rollup.sensor_id
                   and m.tier_ms = 60000 and m.first_at_ms = rollup.first_at_ms),
    last_value = (select m.last_value from rollup m where m.sensor_id = rollup.sensor_id
                  and m.tier_ms = 60000 and m.last_at_ms = rollup.last_at_ms)
where tier_ms = 600000;
