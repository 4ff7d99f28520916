-- Browsers the owner logged in from: a random token in a long-lived cookie (only its SHA-256
-- here). Such a browser logs in past the limit on its account's name, which strangers'
-- guesses use up, under a limit of its own.
create table known_browser (
    token_hash text primary key,
    account_id bigint not null references account (account_id) on delete cascade,
    created_at_ms bigint not null
);
