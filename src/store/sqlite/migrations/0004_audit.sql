-- 0004: the audit log: every change and every failed authentication, with
-- who, through which face, what, and how it ended. Never a secret value.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    face   TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT    NOT NULL,
    result TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_target ON audit (target COLLATE NOCASE, at);
CREATE INDEX audit_actor ON audit (actor COLLATE NOCASE, at);
