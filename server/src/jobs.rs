//! Background jobs: judging alert rules ([`alerts`]), delivering alerts to the webhook
//! ([`webhook`]), and deleting what retention no longer keeps ([`retention`]).

pub mod alerts;
pub mod retention;
pub mod webhook;
