-- 0005: what identity providers send.
--
-- login_name: the SCIM userName when it is not a valid user name (a UPN,
-- an email login); NULL when the user name serves as the login name. The
-- login identity, COALESCE(login_name, user_name), is unique ignoring case,
-- so one SCIM userName names one account.
ALTER TABLE accounts ADD COLUMN login_name TEXT;
CREATE UNIQUE INDEX accounts_login ON accounts (COALESCE(login_name, user_name) COLLATE NOCASE);

-- The directory attributes (`core::model::Attribute`), one column each,
-- named by the attribute's stored name.
ALTER TABLE accounts ADD COLUMN display_name TEXT;
ALTER TABLE accounts ADD COLUMN name_formatted TEXT;
ALTER TABLE accounts ADD COLUMN title TEXT;
ALTER TABLE accounts ADD COLUMN preferred_language TEXT;
ALTER TABLE accounts ADD COLUMN work_phone TEXT;
ALTER TABLE accounts ADD COLUMN fax TEXT;
ALTER TABLE accounts ADD COLUMN address_formatted TEXT;
ALTER TABLE accounts ADD COLUMN street_address TEXT;
ALTER TABLE accounts ADD COLUMN locality TEXT;
ALTER TABLE accounts ADD COLUMN region TEXT;
ALTER TABLE accounts ADD COLUMN postal_code TEXT;
ALTER TABLE accounts ADD COLUMN country TEXT;
ALTER TABLE accounts ADD COLUMN employee_number TEXT;
ALTER TABLE accounts ADD COLUMN department TEXT;
ALTER TABLE accounts ADD COLUMN cost_center TEXT;
ALTER TABLE accounts ADD COLUMN organization TEXT;
ALTER TABLE accounts ADD COLUMN division TEXT;

-- The ones people look each other up by.
CREATE INDEX accounts_display_name ON accounts (display_name COLLATE NOCASE);
CREATE INDEX accounts_employee_number ON accounts (employee_number COLLATE NOCASE);
CREATE INDEX accounts_department ON accounts (department COLLATE NOCASE);
