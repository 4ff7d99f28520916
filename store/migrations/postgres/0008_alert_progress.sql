-- How far the evaluator has judged each rule, so that readings posted late, however many, are
-- judged in order from there rather than within a window of the newest. Written in the same
-- transaction as the alerts it decided; `version` lets only one of several servers record a
-- judging of the same readings.
create table alert_progress (
    alert_rule_id bigint primary key references alert_rule (alert_rule_id),
    -- Readings up to this time have been judged (offline: the device's last report judged).
    judged_to_ms bigint not null,
    -- above/below/leak_flow: when the run of readings counting toward the next change began.
    since_ms bigint,
    version bigint not null
);

-- Where alerts are sent besides the live stream and the webhook, as set on the Alerts page:
-- `email` (SMTP) and `ntfy`, each with its settings as JSON (secrets included: keep the
-- database private).
create table alert_channel (
    kind text primary key,
    settings text not null,
    updated_at_ms bigint not null
);
