-- index children_by_reference
CREATE INDEX children_by_reference ON children (reference_number)
    WHERE reference_number IS NOT NULL;
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
-- index payments_by_reference
CREATE INDEX payments_by_reference ON payments (reference_number)
    WHERE reference_number IS NOT NULL;
-- index payments_by_state_newest
CREATE INDEX payments_by_state_newest ON payments (state, created_at_ms DESC, id DESC);
-- index payments_newest
CREATE INDEX payments_newest ON payments (created_at_ms DESC, id DESC);
-- index profiles_by_uid
CREATE UNIQUE INDEX profiles_by_uid ON profiles (uid);
-- index reconciled_periods_locked
CREATE INDEX reconciled_periods_locked ON reconciled_periods (profile_id, from_ms)
    WHERE status = 'locked';
-- index reconciliation_items_by_class
CREATE INDEX reconciliation_items_by_class ON reconciliation_items (reconciliation_id, class, id);
-- index reconciliation_items_decided
CREATE INDEX reconciliation_items_decided ON reconciliation_items (reconciliation_id, payment_id)
    WHERE decision IS NOT NULL;
-- index settlement_lines_by_order_no
CREATE INDEX settlement_lines_by_order_no ON settlement_lines (profile_id, order_no)
    WHERE order_no IS NOT NULL;
-- index settlement_lines_by_reference
CREATE INDEX settlement_lines_by_reference ON settlement_lines (profile_id, reference)
    WHERE reference IS NOT NULL;
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
    updated_at_ms  INTEGER NOT NULL, reference_number TEXT,
    UNIQUE (payment_id, session_id)
) STRICT;
-- table column_maps
CREATE TABLE column_maps (
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    file_kind     TEXT    NOT NULL CHECK (file_kind IN ('report', 'settlement')),
    header        TEXT    NOT NULL,
    field         TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (profile_id, file_kind, header)
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
    updated_at_ms      INTEGER NOT NULL, refreshed_at_ms INTEGER, customer_email TEXT, customer_phone TEXT, reference_number TEXT, remote_modified_at_ms INTEGER,
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
-- table reconciled_periods
CREATE TABLE reconciled_periods (
    id                     INTEGER PRIMARY KEY,
    profile_id             INTEGER NOT NULL REFERENCES profiles(id),
    from_ms                INTEGER NOT NULL,
    to_ms                  INTEGER NOT NULL CHECK (to_ms > from_ms),
    reconciliation_id      INTEGER REFERENCES reconciliations(id),
    status                 TEXT    NOT NULL CHECK (status IN ('locked', 'reopened')),
    locked_at_ms           INTEGER NOT NULL,
    locked_by              TEXT    NOT NULL,
    reopened_at_ms         INTEGER,
    reopened_by_payment_id INTEGER REFERENCES payments(id),
    reopen_reason          TEXT
) STRICT;
-- table reconciliation_items
CREATE TABLE reconciliation_items (
    id                INTEGER PRIMARY KEY,
    reconciliation_id INTEGER NOT NULL REFERENCES reconciliations(id),
    class             TEXT    NOT NULL CHECK (class IN ('matched', 'amount_differs',
                          'state_differs', 'totals_differ', 'report_only', 'ledger_only',
                          'queued', 'changed_late')),
    payment_id        INTEGER REFERENCES payments(id),
    session_id        TEXT,
    order_no          TEXT,
    currency          TEXT    NOT NULL,
    ledger_json       TEXT,
    report_json       TEXT,
    decision          TEXT    CHECK (decision IS NULL OR decision IN ('accepted', 'kept')),
    decided_at_ms     INTEGER,
    decided_by        TEXT
, amount_minor INTEGER, state TEXT, created_at_ms INTEGER, refunded_minor INTEGER, captured_minor INTEGER, voided_minor INTEGER, report_line INTEGER) STRICT;
-- table reconciliations
CREATE TABLE reconciliations (
    id            INTEGER PRIMARY KEY,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    from_ms       INTEGER,
    to_ms         INTEGER,
    source        TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    summary_json  TEXT    NOT NULL
) STRICT;
-- table settlement_lines
CREATE TABLE settlement_lines (
    id            INTEGER PRIMARY KEY,
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    source        TEXT    NOT NULL,
    line          INTEGER NOT NULL,
    line_key      TEXT    NOT NULL,
    order_no      TEXT,
    reference     TEXT,
    amount_minor  INTEGER NOT NULL,
    fee_minor     INTEGER,
    net_minor     INTEGER,
    currency      TEXT    NOT NULL,
    settled_on    TEXT    NOT NULL,
    imported_at_ms INTEGER NOT NULL,
    UNIQUE (profile_id, line_key)
) STRICT;
-- trigger child_change_reopens_period
CREATE TRIGGER child_change_reopens_period AFTER UPDATE OF amount_minor, state ON children
WHEN old.amount_minor IS NOT new.amount_minor OR old.state IS NOT new.state
BEGIN
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.payment_id, reopen_reason = 'child_changed'
    WHERE status = 'locked'
      AND profile_id = (SELECT profile_id FROM payments WHERE id = new.payment_id)
      AND (SELECT created_at_ms FROM payments WHERE id = new.payment_id) >= from_ms
      AND (SELECT created_at_ms FROM payments WHERE id = new.payment_id) < to_ms;
END;
-- trigger child_insert_reopens_period
CREATE TRIGGER child_insert_reopens_period AFTER INSERT ON children
BEGIN
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.payment_id, reopen_reason = 'child_added'
    WHERE status = 'locked'
      AND profile_id = (SELECT profile_id FROM payments WHERE id = new.payment_id)
      AND (SELECT created_at_ms FROM payments WHERE id = new.payment_id) >= from_ms
      AND (SELECT created_at_ms FROM payments WHERE id = new.payment_id) < to_ms;
END;
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
-- trigger payment_change_reopens_period
CREATE TRIGGER payment_change_reopens_period AFTER UPDATE OF amount_minor, currency, state, hidden ON payments
WHEN old.amount_minor IS NOT new.amount_minor OR old.currency IS NOT new.currency
    OR old.state IS NOT new.state OR old.hidden IS NOT new.hidden
BEGIN
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.id, reopen_reason = 'payment_changed'
    WHERE profile_id = new.profile_id AND status = 'locked'
      AND new.created_at_ms >= from_ms AND new.created_at_ms < to_ms;
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
-- trigger payment_created_moved_reopens_period
CREATE TRIGGER payment_created_moved_reopens_period AFTER UPDATE OF created_at_ms ON payments
WHEN old.created_at_ms IS NOT new.created_at_ms
BEGIN
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.id, reopen_reason = 'payment_changed'
    WHERE profile_id = new.profile_id AND status = 'locked'
      AND old.created_at_ms >= from_ms AND old.created_at_ms < to_ms;
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.id,
        reopen_reason = CASE WHEN old.amount_minor IS NOT new.amount_minor
                                  OR old.currency IS NOT new.currency
                                  OR old.state IS NOT new.state
                                  OR old.hidden IS NOT new.hidden
                             THEN 'payment_changed' ELSE 'payment_added' END
    WHERE profile_id = new.profile_id AND status = 'locked'
      AND new.created_at_ms >= from_ms AND new.created_at_ms < to_ms;
END;
-- trigger payment_insert_reopens_period
CREATE TRIGGER payment_insert_reopens_period AFTER INSERT ON payments
BEGIN
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.id, reopen_reason = 'payment_added'
    WHERE profile_id = new.profile_id AND status = 'locked'
      AND new.created_at_ms >= from_ms AND new.created_at_ms < to_ms;
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
-- view reconciliation_item_sides
CREATE VIEW reconciliation_item_sides AS
SELECT id, reconciliation_id, class, payment_id, session_id, order_no, currency,
    decision, decided_at_ms, decided_by,
    CASE WHEN ledger_json IS NULL AND amount_minor IS NOT NULL THEN state
         ELSE json_extract(ledger_json, '$.state') END AS ledger_state,
    CASE WHEN ledger_json IS NULL AND amount_minor IS NOT NULL THEN currency
         ELSE json_extract(ledger_json, '$.currency') END AS ledger_currency,
    CASE WHEN ledger_json IS NULL AND amount_minor IS NOT NULL THEN amount_minor
         ELSE json_extract(ledger_json, '$.amount_minor') END AS ledger_amount_minor,
    CASE WHEN report_json IS NULL AND amount_minor IS NOT NULL THEN state
         ELSE json_extract(report_json, '$.state') END AS report_state,
    CASE WHEN report_json IS NULL AND amount_minor IS NOT NULL THEN currency
         ELSE json_extract(report_json, '$.currency') END AS report_currency,
    CASE WHEN report_json IS NULL AND amount_minor IS NOT NULL THEN amount_minor
         ELSE json_extract(report_json, '$.amount_minor') END AS report_amount_minor,
    CASE WHEN ledger_json IS NULL AND amount_minor IS NOT NULL THEN created_at_ms
         ELSE COALESCE(json_extract(ledger_json, '$.created_at_ms'),
                       json_extract(report_json, '$.created_at_ms')) END AS created_at_ms
FROM reconciliation_items;
