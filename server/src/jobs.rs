//! Background jobs: judging alert rules ([`alerts`]), sending the alerts recorded through
//! the [`outbox`] to the [`webhook`], [`email`] and [`ntfy`], and deleting what retention no
//! longer keeps ([`retention`]), and scheduled backups ([`backup`]).

pub mod alerts;
pub mod backup;
pub mod email;
pub mod ntfy;
pub mod outbox;
pub mod retention;
pub mod webhook;
