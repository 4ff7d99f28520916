//! `/alerts`: the open alerts, the rules (with what each watches and, for offline rules, when
//! the device was last seen and how often it usually reports), a form to add a rule, and the
//! history of resolved alerts; for the owner also where alerts are sent (email, ntfy). Kept
//! current by the live stream's alert events.

use crate::components::alert_channels::ChannelsPanel;
use crate::components::alerts::OpenAlerts;
use crate::format::{ago, elapsed};
use crate::functions::alerts::{
    AddAlertRule, AlertsOverview, Choice, DeleteAlertRule, RemoveAlertChannel, RuleStatus, SaveAlertEmail, SaveAlertNtfy, load_alerts,
};
use hearth_core::alert::form::fits;
use hearth_core::alert::{Alert, RuleKind};
use hearth_core::time::Zone;
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The alerts view.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let add = ServerAction::<AddAlertRule>::new();
    let delete = ServerAction::<DeleteAlertRule>::new();
    let email = ServerAction::<SaveAlertEmail>::new();
    let ntfy = ServerAction::<SaveAlertNtfy>::new();
    let removed = ServerAction::<RemoveAlertChannel>::new();
    let heard = use_context::<OpenAlerts>().map(|a| a.heard);
    let data = Resource::new(
        move || {
            let channels = (email.version().get(), ntfy.version().get(), removed.version().get());
            (add.version().get(), delete.version().get(), channels, heard.map(|h| h.get()))
        },
        |_| load_alerts(),
    );
    let add_error = move || add.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let delete_error = move || delete.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <div class="view-head"><h1>"Alerts"</h1></div>
        <Transition fallback=|| view! { <section class="panel"><p class="muted">"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(AlertsOverview { zone, now_ms, owner, rules, open, history, sensors, devices, channels }) => {
                        let zone = StoredValue::new(zone);
                        view! {
                            <OpenList open now_ms zone />
                            <section class="panel alert-rules">
                                <h2>"Rules"</h2>
                                {if rules.is_empty() {
                                    view! { <p class="muted">"No rule yet."</p> }.into_any()
                                } else {
                                    view! { <RuleList rules now_ms owner delete /> }.into_any()
                                }}
                                {move || delete_error().map(|e| view! { <p class="error">{e}</p> })}
                            </section>
                            {owner.then(|| view! { <RuleFormPanel sensors devices add error=Signal::derive(add_error) /> })}
                            {channels.map(|channels| view! { <ChannelsPanel channels saved=email saved_ntfy=ntfy removed /> })}
                            <History history zone />
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="error">"Could not load the alerts: " {e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OpenList(open: Vec<Alert>, now_ms: i64, zone: StoredValue<Zone>) -> impl IntoView {
    view! {
        <section class="panel alert-open" data-testid="open-alerts">
            <h2>"Open"</h2>
            {if open.is_empty() {
                view! { <p class="muted">"Nothing needs attention."</p> }.into_any()
            } else {
                view! {
                    <ul class="alert-list">
                        {open.into_iter().map(|a| view! {
                            <li data-alert=a.alert_id.to_string()>
                                <span class="alert-dot" aria-hidden="true"></span>
                                <div>
                                    <div class="alert-message">{a.message.clone()}</div>
                                    <div class="muted">
                                        "since " {zone.with_value(|z| z.format(a.opened_at_ms, "%a %-d %b %H:%M"))}
                                        " · " {elapsed(now_ms - a.opened_at_ms)}
                                    </div>
                                </div>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RuleList(rules: Vec<RuleStatus>, now_ms: i64, owner: bool, delete: ServerAction<DeleteAlertRule>) -> impl IntoView {
    view! {
        <ul class="rule-list">
            {rules.into_iter().map(|RuleStatus { rule, last_seen_ms, interval_ms }| {
                let seen = match (last_seen_ms, rule.kind) {
                    (None, _) => "no reading yet".to_owned(),
                    (Some(at), RuleKind::Offline) => match interval_ms {
                        Some(every) => format!("last seen {} · usually every {}", ago(now_ms - at), elapsed(every)),
                        None => format!("last seen {}", ago(now_ms - at)),
                    },
                    (Some(at), _) => format!("latest reading {}", ago(now_ms - at)),
                };
                let rule_id = rule.rule_id;
                let source = match &rule.sensor {
                    Some(key) => format!("{}/{key}", rule.device),
                    None => format!("device {}", rule.device),
                };
                view! {
                    <li data-rule=rule_id.to_string()>
                        <div>
                            <div class="rule-text">{rule.describe()}</div>
                            <div class="muted">{source}" · "{seen}</div>
                        </div>
                        {owner.then(|| view! {
                            <ActionForm action=delete>
                                <input type="hidden" name="rule_id" value=rule_id />
                                <button type="submit" class="quiet">"Delete"</button>
                            </ActionForm>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn RuleFormPanel(sensors: Vec<Choice>, devices: Vec<Choice>, add: ServerAction<AddAlertRule>, error: Signal<Option<String>>) -> impl IntoView {
    let kind = RwSignal::new(RuleKind::Above);
    let sensors = StoredValue::new(sensors);
    let shows = move |kinds: &'static [RuleKind]| move || !kinds.contains(&kind.get());
    view! {
        <section class="panel">
            <h2>"Add a rule"</h2>
            <ActionForm action=add attr:class="rule-form">
                <label>
                    <span>"When"</span>
                    <select name="rule[kind]" aria-label="Kind" on:change=move |ev| {
                        if let Ok(k) = event_target_value(&ev).parse() {
                            kind.set(k);
                        }
                    }>
                        {RuleKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label hidden=shows(&[RuleKind::Above, RuleKind::Below, RuleKind::LeakFlow, RuleKind::LeakNight])>
                    <span>"Sensor"</span>
                    <select name="rule[sensor_id]" aria-label="Sensor">
                        {move || {
                            let k = kind.get();
                            sensors.with_value(|all| {
                                all.iter()
                                    .filter(|s| s.kind.is_some_and(|sk| fits(k, sk)))
                                    .map(|s| view! { <option value=s.id.to_string()>{s.label.clone()}</option> })
                                    .collect_view()
                            })
                        }}
                    </select>
                </label>
                <label hidden=shows(&[RuleKind::Offline])>
                    <span>"Device"</span>
                    <select name="rule[device_id]" aria-label="Device">
                        {devices.into_iter().map(|d| view! { <option value=d.id.to_string()>{d.label}</option> }).collect_view()}
                    </select>
                </label>
                <label hidden=shows(&[RuleKind::Above, RuleKind::Below, RuleKind::LeakNight])>
                    <span>{move || if kind.get() == RuleKind::LeakNight { "Baseline (L)" } else { "Value" }}</span>
                    <input type="text" inputmode="decimal" name="rule[threshold]" aria-label="Value" placeholder="−12" />
                </label>
                <label hidden=shows(&[RuleKind::Above, RuleKind::Below])>
                    <span>"Margin"</span>
                    <input type="text" inputmode="decimal" name="rule[margin]" aria-label="Margin" placeholder="0.5" />
                </label>
                <label hidden=shows(&[RuleKind::Above, RuleKind::Below, RuleKind::LeakFlow])>
                    <span>"For (min)"</span>
                    <input type="text" inputmode="numeric" name="rule[minutes]" aria-label="Minutes" value="10" />
                </label>
                <label hidden=shows(&[RuleKind::Offline])>
                    <span>"Silent over × usual interval"</span>
                    <input type="text" inputmode="decimal" name="rule[factor]" aria-label="Factor" value="3" />
                </label>
                <button type="submit" class="primary">"Add rule"</button>
            </ActionForm>
            <p class="muted hint">
                {move || match kind.get() {
                    RuleKind::Above | RuleKind::Below => "Opens when every reading for that long is past the value; resolves when readings are back past it by the margin for as long.",
                    RuleKind::Offline => "Opens when the device has been silent longer than this many times its usual interval (how often it reports: readings sent together count once); resolves after two new reports.",
                    RuleKind::LeakFlow => "Opens when the flow has not dropped to zero for that long; resolves when it has stayed at zero for as long.",
                    RuleKind::LeakNight => "Opens when more than the baseline is used between 00:00 and 05:00; resolves after a night under it.",
                }}
            </p>
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        </section>
    }
}

#[component]
fn History(history: Vec<Alert>, zone: StoredValue<Zone>) -> impl IntoView {
    let time = move |ms: i64| zone.with_value(|z| z.format(ms, "%-d %b %H:%M"));
    view! {
        <section class="panel">
            <h2>"History"</h2>
            {if history.is_empty() {
                view! { <p class="muted">"No alert has resolved yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="alert-history">
                            <thead><tr>
                                <th>"Rule"</th><th>"Opened"</th><th>"Resolved"</th><th class="r">"Duration"</th><th class="r">"Value"</th>
                            </tr></thead>
                            <tbody>
                                {history.into_iter().map(|a| {
                                    let resolved = a.resolved_at_ms.unwrap_or(a.opened_at_ms);
                                    view! {
                                        <tr>
                                            <td>{a.rule.describe()}</td>
                                            <td>{time(a.opened_at_ms)}</td>
                                            <td>{time(resolved)}</td>
                                            <td class="r">{elapsed(resolved - a.opened_at_ms)}</td>
                                            <td class="r">{a.rule.alert_value(a.value)}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
