-- MQTT: the topic prefix that identifies a device on the broker (unique; null when the device
-- does not use MQTT), and what its last-will or status topic last said.
-- Emoncms: a second, 32-character credential (emonhub accepts no other length), hashed like
-- the token.
alter table device add column mqtt_prefix text;
alter table device add column mqtt_online boolean;
alter table device add column mqtt_online_at_ms bigint;
alter table device add column apikey_hash text;

create unique index device_mqtt_prefix on device (mqtt_prefix);
create unique index device_apikey_hash on device (apikey_hash);
