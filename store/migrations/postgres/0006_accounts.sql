-- The homeowner's account, browser sessions and read-only share links; device revocation.
create table account (
    account_id bigint generated always as identity primary key,
    name text not null unique,
    -- Argon2id PHC string: algorithm, parameters, salt and hash.
    password_hash text not null,
    created_at_ms bigint not null
);

-- A link such as /share/<token> for a screen on the wall; opening it starts a read-only
-- session. Deleting the link ends those sessions.
create table share_link (
    share_link_id bigint generated always as identity primary key,
    label text not null,
    token_hash text not null unique,
    created_at_ms bigint not null
);

-- A browser session: only the SHA-256 of the cookie's token is stored. It belongs to an
-- account (full access) or to a share link (read-only).
create table session (
    token_hash text primary key,
    account_id bigint references account (account_id) on delete cascade,
    share_link_id bigint references share_link (share_link_id) on delete cascade,
    created_at_ms bigint not null,
    expires_at_ms bigint not null,
    check ((account_id is null) <> (share_link_id is null))
);

create index session_expiry on session (expires_at_ms);

-- A revoked device's token is refused everywhere; its readings stay.
alter table device add column revoked_at_ms bigint;
