-- 0001: the first dirgate schema.
--
-- Conventions: timestamps are INTEGER unix microseconds; UUIDs are TEXT,
-- hyphenated lower-case; enums are their `as_str()` names. STRICT tables make
-- SQLite refuse a value of the wrong type instead of storing it silently.
-- The runner sets `user_version` (and `application_id`) in the same
-- transaction, so this file holds schema only.

-- The organisation tree: business entities and groups, parent by pointer.
CREATE TABLE nodes (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    parent      INTEGER REFERENCES nodes (id),
    external_id TEXT,
    created     INTEGER NOT NULL,
    modified    INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;

-- Group names are unique the way people read them: ignoring case.
CREATE UNIQUE INDEX nodes_name ON nodes (name COLLATE NOCASE);
CREATE INDEX nodes_parent ON nodes (parent);
CREATE INDEX nodes_external_id ON nodes (external_id);

-- Security roles that may be named on an account.
CREATE TABLE roles (
    name TEXT PRIMARY KEY
) STRICT;

INSERT INTO roles (name) VALUES ('user-management'), ('remote-assistance');

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    user_name     TEXT    NOT NULL,
    password_hash TEXT,
    given_name    TEXT    NOT NULL,
    family_name   TEXT    NOT NULL,
    email         TEXT,
    mobile        TEXT,
    time_zone     TEXT    NOT NULL,
    account_type  TEXT    NOT NULL,
    auth_method   TEXT    NOT NULL,
    restricted_to INTEGER REFERENCES nodes (id),
    manager       INTEGER REFERENCES accounts (id),
    admin_level   TEXT    NOT NULL,
    admin_entity  INTEGER REFERENCES nodes (id),
    status        TEXT    NOT NULL,
    archived      INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    reset_pending INTEGER NOT NULL DEFAULT 0 CHECK (reset_pending IN (0, 1)),
    totp_secret   BLOB,
    external_id   TEXT,
    created       INTEGER NOT NULL,
    modified      INTEGER NOT NULL,
    version       INTEGER NOT NULL
) STRICT;

-- User names are unique on the server, compared case-insensitively; lookups
-- use `= ? COLLATE NOCASE` so they go through this index.
CREATE UNIQUE INDEX accounts_user_name ON accounts (user_name COLLATE NOCASE);
CREATE INDEX accounts_email ON accounts (email COLLATE NOCASE);
CREATE INDEX accounts_external_id ON accounts (external_id);
CREATE INDEX accounts_manager ON accounts (manager);
CREATE INDEX accounts_restricted_to ON accounts (restricted_to);
CREATE INDEX accounts_modified ON accounts (modified);

-- The product rule "accounts are never deleted", held by the database itself
-- so that no code path (or hand-typed SQL) can break it.
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
BEGIN
    SELECT RAISE(ABORT, 'accounts are never deleted');
END;

CREATE TABLE account_roles (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    role       TEXT    NOT NULL REFERENCES roles (name),
    PRIMARY KEY (account_id, role)
) STRICT, WITHOUT ROWID;

-- Direct membership of people in nodes.
CREATE TABLE memberships (
    node_id    INTEGER NOT NULL REFERENCES nodes (id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (node_id, account_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX memberships_account ON memberships (account_id, node_id);

-- Bearer tokens. Only the SHA-256 of the secret is kept: a stolen database
-- file yields no usable token.
CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    secret_hash BLOB    NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created     INTEGER NOT NULL,
    expires     INTEGER,
    revoked     INTEGER
) STRICT;

CREATE INDEX tokens_account ON tokens (account_id);
