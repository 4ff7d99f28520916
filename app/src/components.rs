//! Widgets used by the pages: the chart kinds and what they share, the shell of a live chart
//! view, the range picker, the account menu, the open alerts, the alert channels, the MQTT
//! panel and the tariffs form.

pub mod account_menu;
pub mod alert_channels;
pub mod air;
pub mod alerts;
pub mod bars;
pub mod chart;
pub mod cost_days;
pub mod flows;
pub mod import;
pub mod live_page;
pub mod mqtt;
pub mod plot;
pub mod range_picker;
pub mod tariff_form;
pub mod timeline;
