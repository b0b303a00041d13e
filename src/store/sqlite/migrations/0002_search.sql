-- 0002: searching, and TOTP replay protection.

-- The last TOTP time step accepted for the account: a code is refused unless
-- its step is later (one code, one bind). Cleared with a new secret.
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER;

-- The LDAP `cn` / `displayName`: "Given Family", or whichever part exists,
-- else the user name (`Account::display_name`). Virtual: computed on read,
-- stored only in its index, so `(cn=Jane Doe)` is one index lookup.
ALTER TABLE accounts ADD COLUMN full_name TEXT GENERATED ALWAYS AS (
    CASE
        WHEN given_name <> '' AND family_name <> '' THEN given_name || ' ' || family_name
        WHEN given_name <> '' THEN given_name
        WHEN family_name <> '' THEN family_name
        ELSE user_name
    END
) VIRTUAL;

CREATE INDEX accounts_full_name ON accounts (full_name COLLATE NOCASE);
CREATE INDEX accounts_created ON accounts (created);
CREATE INDEX nodes_created ON nodes (created);
CREATE INDEX nodes_modified ON nodes (modified);
