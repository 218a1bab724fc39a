-- Credential binding: a stored credential belongs to this ledger and this profile (ids made
-- at creation, never the names a person can repeat) and to the host it was entered for.
-- The keyring account name is built from these ids (src/secrets.rs), so two ledgers, or a
-- profile removed and added again under the same name, never share a key.

-- One row: this ledger file's id, made when the file is created (or upgraded to this version).
CREATE TABLE ledger_identity (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    uid      TEXT    NOT NULL CHECK (length(uid) = 32 AND uid NOT GLOB '*[^0-9a-f]*')
) STRICT;
INSERT INTO ledger_identity (only_row, uid) VALUES (1, lower(hex(randomblob(16))));
CREATE TRIGGER ledger_identity_fixed BEFORE UPDATE ON ledger_identity
BEGIN
    SELECT RAISE(ABORT, 'the ledger id never changes');
END;
CREATE TRIGGER ledger_identity_kept BEFORE DELETE ON ledger_identity
BEGIN
    SELECT RAISE(ABORT, 'the ledger id is never deleted');
END;

-- Each profile's id (32 lowercase hex digits), made at creation; existing profiles get one
-- now. Nullable only because SQLite cannot add a NOT NULL column without a constant default:
-- every insert sets it, and a NULL reads as a corrupt row.
ALTER TABLE profiles ADD COLUMN uid TEXT
    CHECK (uid IS NULL OR (length(uid) = 32 AND uid NOT GLOB '*[^0-9a-f]*'));
UPDATE profiles SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX profiles_by_uid ON profiles (uid);
CREATE TRIGGER profiles_uid_fixed BEFORE UPDATE OF uid ON profiles
    WHEN old.uid IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a profile id never changes');
END;
