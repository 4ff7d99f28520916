//! Background jobs: judging alert rules ([`alerts`]), sending the alerts recorded through
//! the [`outbox`] to the [`webhook`], [`email`] and [`ntfy`], and deleting what retention no
//! longer keeps ([`retention`]).

pub mod alerts;
pub mod email;
pub mod ntfy;
pub mod outbox;
pub mod retention;
pub mod webhook;
