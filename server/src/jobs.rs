//! Background jobs: judging alert rules ([`alerts`]), sending the alerts recorded through
//! the [`outbox`] to the [`webhook`], [`email`] and [`ntfy`] (what each needs to reach out in
//! [`reach`]), and deleting what retention no
//! longer keeps ([`retention`]), and scheduled backups ([`backup`]).

pub mod alerts;
pub mod backup;
pub mod email;
pub mod ntfy;
pub mod outbox;
pub mod reach;
pub mod retention;
pub mod webhook;
