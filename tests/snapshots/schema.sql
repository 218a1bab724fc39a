-- index children_by_state
CREATE INDEX children_by_state ON children (state, payment_id);
-- index events_by_payment
CREATE INDEX events_by_payment ON events (payment_id, id) WHERE payment_id IS NOT NULL;
-- index operations_by_payment
CREATE INDEX operations_by_payment ON operations (payment_id, id);
-- index operations_by_payment_seq
CREATE INDEX operations_by_payment_seq ON operations (payment_id, seq);
-- index operations_by_reference
CREATE INDEX operations_by_reference ON operations (reference_number COLLATE NOCASE)
    WHERE reference_number IS NOT NULL;
-- index operations_by_status
CREATE INDEX operations_by_status ON operations (status, id);
-- index operations_due
CREATE INDEX operations_due ON operations (status, next_attempt_at_ms, seq);
-- index operations_one_retry
CREATE UNIQUE INDEX operations_one_retry ON operations (retry_of) WHERE retry_of IS NOT NULL;
-- index payments_by_email
CREATE INDEX payments_by_email ON payments (customer_email COLLATE NOCASE)
    WHERE customer_email IS NOT NULL;
-- index payments_by_order_no
CREATE INDEX payments_by_order_no ON payments (order_no) WHERE order_no IS NOT NULL;
-- index payments_by_order_no_nocase
CREATE INDEX payments_by_order_no_nocase ON payments (order_no COLLATE NOCASE)
    WHERE order_no IS NOT NULL;
-- index payments_by_phone
CREATE INDEX payments_by_phone ON payments (customer_phone) WHERE customer_phone IS NOT NULL;
-- index payments_by_profile_newest
CREATE INDEX payments_by_profile_newest ON payments (profile_id, created_at_ms DESC, id DESC);
-- index payments_by_state_newest
CREATE INDEX payments_by_state_newest ON payments (state, created_at_ms DESC, id DESC);
-- index payments_newest
CREATE INDEX payments_newest ON payments (created_at_ms DESC, id DESC);
-- index profiles_by_uid
CREATE UNIQUE INDEX profiles_by_uid ON profiles (uid);
-- table children
CREATE TABLE children (
    id             INTEGER PRIMARY KEY,
    payment_id     INTEGER NOT NULL REFERENCES payments(id),
    operation_id   INTEGER REFERENCES operations(id),
    kind           TEXT    NOT NULL CHECK (kind IN ('refund', 'capture', 'void')),
    session_id     TEXT    NOT NULL,
    amount_minor   INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency       TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    UNIQUE (payment_id, session_id)
) STRICT;
-- table events
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   INTEGER NOT NULL,
    payment_id  INTEGER REFERENCES payments(id),
    before_json TEXT,
    after_json  TEXT
) STRICT;
-- table ledger_identity
CREATE TABLE ledger_identity (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    uid      TEXT    NOT NULL CHECK (length(uid) = 32 AND uid NOT GLOB '*[^0-9a-f]*')
) STRICT;
-- table operations
CREATE TABLE operations (
    id               INTEGER PRIMARY KEY,
    payment_id       INTEGER NOT NULL REFERENCES payments(id),
    kind             TEXT    NOT NULL CHECK (kind IN ('refund', 'capture', 'void', 'cancel', 'expire', 'delete')),
    -- What is sent as `amount`; NULL = the full or remaining amount.
    amount_minor     INTEGER CHECK (amount_minor IS NULL OR amount_minor > 0),
    -- What the ledger holds back while the operation is not final.
    reserved_minor   INTEGER NOT NULL CHECK (reserved_minor >= 0),
    tracking_key     TEXT    NOT NULL UNIQUE,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    last_error       TEXT,
    reply_json       TEXT,
    reason           TEXT,
    requested_by     TEXT    NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL
, retry_of INTEGER REFERENCES operations(id), seq INTEGER, held_by INTEGER REFERENCES operations(id), first_sent_at_ms INTEGER, reference_number TEXT, last_error_code TEXT, last_error_params TEXT
    CHECK (last_error_params IS NULL OR json_type(last_error_params) = 'object')) STRICT;
-- table payment_counts
CREATE TABLE payment_counts (
    profile_id INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    n          INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (profile_id, state)
) STRICT;
-- table payments
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY,
    profile_id         INTEGER NOT NULL REFERENCES profiles(id),
    session_id         TEXT    NOT NULL,
    order_no           TEXT,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    hidden             INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    source             TEXT    NOT NULL,
    pg_code            TEXT,
    customer_reference TEXT,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL, refreshed_at_ms INTEGER, customer_email TEXT, customer_phone TEXT,
    UNIQUE (profile_id, session_id)
) STRICT;
-- table profiles
CREATE TABLE profiles (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    base_url      TEXT    NOT NULL,
    currency      TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
, auth_kind TEXT NOT NULL DEFAULT 'api_key'
    CHECK (auth_kind IN ('api_key', 'basic')), basic_user TEXT, paused_reason TEXT, paused_at_ms INTEGER, uid TEXT
    CHECK (uid IS NULL OR (length(uid) = 32 AND uid NOT GLOB '*[^0-9a-f]*')), paused_code TEXT, paused_params TEXT
    CHECK (paused_params IS NULL OR json_type(paused_params) = 'object'), credential_gen INTEGER NOT NULL DEFAULT 0) STRICT;
-- trigger events_are_append_only_delete
CREATE TRIGGER events_are_append_only_delete
BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
-- trigger events_are_append_only_update
CREATE TRIGGER events_are_append_only_update
BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
-- trigger ledger_identity_fixed
CREATE TRIGGER ledger_identity_fixed BEFORE UPDATE ON ledger_identity
BEGIN
    SELECT RAISE(ABORT, 'the ledger id never changes');
END;
-- trigger ledger_identity_kept
CREATE TRIGGER ledger_identity_kept BEFORE DELETE ON ledger_identity
BEGIN
    SELECT RAISE(ABORT, 'the ledger id is never deleted');
END;
-- trigger operations_are_never_deleted
CREATE TRIGGER operations_are_never_deleted
BEFORE DELETE ON operations
BEGIN
    SELECT RAISE(ABORT, 'operations are never deleted; drop them instead');
END;
-- trigger operations_last_error_code_follows
CREATE TRIGGER operations_last_error_code_follows AFTER UPDATE OF last_error ON operations
    WHEN new.last_error IS NOT old.last_error
     AND new.last_error_code IS old.last_error_code
     AND new.last_error_params IS old.last_error_params
BEGIN
    UPDATE operations SET last_error_code = NULL, last_error_params = NULL WHERE id = new.id;
END;
-- trigger operations_tracking_key_is_immutable
CREATE TRIGGER operations_tracking_key_is_immutable
BEFORE UPDATE OF tracking_key ON operations
WHEN NEW.tracking_key IS NOT OLD.tracking_key
BEGIN
    SELECT RAISE(ABORT, 'operations.tracking_key never changes');
END;
-- trigger payment_counts_delete
CREATE TRIGGER payment_counts_delete AFTER DELETE ON payments
BEGIN
    UPDATE payment_counts SET n = n - 1 WHERE profile_id = old.profile_id AND state = old.state;
END;
-- trigger payment_counts_insert
CREATE TRIGGER payment_counts_insert AFTER INSERT ON payments
BEGIN
    INSERT INTO payment_counts (profile_id, state, n) VALUES (new.profile_id, new.state, 1)
    ON CONFLICT (profile_id, state) DO UPDATE SET n = n + 1;
END;
-- trigger payment_counts_update
CREATE TRIGGER payment_counts_update AFTER UPDATE OF profile_id, state ON payments
WHEN old.profile_id IS NOT new.profile_id OR old.state IS NOT new.state
BEGIN
    UPDATE payment_counts SET n = n - 1 WHERE profile_id = old.profile_id AND state = old.state;
    INSERT INTO payment_counts (profile_id, state, n) VALUES (new.profile_id, new.state, 1)
    ON CONFLICT (profile_id, state) DO UPDATE SET n = n + 1;
END;
-- trigger profiles_paused_code_follows
CREATE TRIGGER profiles_paused_code_follows AFTER UPDATE OF paused_reason ON profiles
    WHEN new.paused_reason IS NOT old.paused_reason
     AND new.paused_code IS old.paused_code AND new.paused_params IS old.paused_params
BEGIN
    UPDATE profiles SET paused_code = NULL, paused_params = NULL WHERE id = new.id;
END;
-- trigger profiles_uid_fixed
CREATE TRIGGER profiles_uid_fixed BEFORE UPDATE OF uid ON profiles
    WHEN old.uid IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a profile id never changes');
END;
