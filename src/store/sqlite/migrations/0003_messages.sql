-- 0003: second factors by email and SMS, recognised computers, password
-- resets, and the outbox that delivers codes and links.

-- The one pending email or SMS code of an account (a new code replaces it).
-- Only a hash is kept; the code itself lives in the outbox until delivered.
CREATE TABLE one_time_codes (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    code_hash  BLOB    NOT NULL,
    channel    TEXT    NOT NULL,
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    tries      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Computers an account passed a second factor from, recognised until
-- `expires`: 'address:IP' or 'certificate:SHA-256 hex'.
CREATE TABLE recognised_computers (
    id         INTEGER PRIMARY KEY,
    uuid       TEXT    NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    computer   TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    UNIQUE (account_id, computer)
) STRICT;

-- Password-reset links: the SHA-256 of the token, single use.
CREATE TABLE reset_tokens (
    token_hash BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    created    INTEGER NOT NULL,
    expires    INTEGER NOT NULL,
    spent      INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX reset_tokens_account ON reset_tokens (account_id, created);

-- Messages to deliver. `body` carries the secret (a code, a link) and is
-- cleared once the message is delivered or given up; `audit_body` is the
-- same text without the secret, kept for audit.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    channel      TEXT    NOT NULL,
    recipient    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    body         TEXT,
    audit_body   TEXT    NOT NULL,
    account_id   INTEGER REFERENCES accounts (id),
    created      INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    state        TEXT    NOT NULL DEFAULT 'pending',
    last_error   TEXT,
    finished     INTEGER
) STRICT;

CREATE INDEX outbox_due ON outbox (state, next_attempt);
