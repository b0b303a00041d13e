-- 0006: POSIX accounts and groups for Linux hosts (RFC 2307, rfc2307bis).
--
-- The account's POSIX values are directory attributes (`core::model::
-- Attribute`), one column each, named by the stored name. Numbers are kept
-- in canonical decimal (the core makes them so), compared as integers by
-- the search; a uidNumber names one account.
ALTER TABLE accounts ADD COLUMN uid_number TEXT;
ALTER TABLE accounts ADD COLUMN gid_number TEXT;
ALTER TABLE accounts ADD COLUMN home_directory TEXT;
ALTER TABLE accounts ADD COLUMN login_shell TEXT;
ALTER TABLE accounts ADD COLUMN gecos TEXT;
-- OpenSSH public keys, one a line.
ALTER TABLE accounts ADD COLUMN ssh_public_keys TEXT;
CREATE UNIQUE INDEX accounts_uid_number ON accounts (uid_number);
CREATE INDEX accounts_gid_number ON accounts (gid_number);

-- A group's number; one group each.
ALTER TABLE nodes ADD COLUMN gid_number INTEGER;
CREATE UNIQUE INDEX nodes_gid_number ON nodes (gid_number);

-- The next number of each kind ('uid', 'gid'): only ever goes up, so a
-- number once handed out is never handed out again, even when the group
-- that had it is deleted or an administrator renumbers an account.
CREATE TABLE posix_numbers (
    kind TEXT PRIMARY KEY,
    next INTEGER NOT NULL
) STRICT;
