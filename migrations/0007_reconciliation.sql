-- Month end: Ottu's transaction reports imported and reconciled with the ledger, the
-- acquirer's or bank's settlement lines, and the periods a merchant marks reconciled.
-- Amounts are integer minor units of the row's currency; times are Unix milliseconds (UTC).

-- What Ottu's reports add to a payment and a child: the reference number the gateway and
-- the bank show (settlement lines carry it), and when Ottu last changed the transaction.
ALTER TABLE payments ADD COLUMN reference_number TEXT;
ALTER TABLE payments ADD COLUMN remote_modified_at_ms INTEGER;
ALTER TABLE children ADD COLUMN reference_number TEXT;
CREATE INDEX payments_by_reference ON payments (reference_number)
    WHERE reference_number IS NOT NULL;
CREATE INDEX children_by_reference ON children (reference_number)
    WHERE reference_number IS NOT NULL;

-- A merchant's own column mapping, per profile and kind of file: a report's or settlement
-- file's header (trimmed, case-folded) and the field it holds, or '-' for a column to
-- ignore. Headers not listed here fall back to the built-in English and Arabic labels.
CREATE TABLE column_maps (
    profile_id    INTEGER NOT NULL REFERENCES profiles(id),
    file_kind     TEXT    NOT NULL CHECK (file_kind IN ('report', 'settlement')),
    header        TEXT    NOT NULL,
    field         TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (profile_id, file_kind, header)
) STRICT;

-- One run of `reconcile`: the ledger compared with one Ottu report over one period
-- ([from_ms, to_ms) of payments' creation; NULL = unbounded). `summary_json` holds the
-- counts and totals per class and currency as the run found them.
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

-- Every payment a reconciliation classified, with the values each side holds. A mismatch
-- never changes the ledger by itself: the merchant accepts Ottu's value (an audit event and
-- the change) or keeps the ledger's (an audit event); `decision` records which.
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
) STRICT;
CREATE INDEX reconciliation_items_by_class ON reconciliation_items (reconciliation_id, class, id);
CREATE INDEX reconciliation_items_by_payment ON reconciliation_items (payment_id)
    WHERE payment_id IS NOT NULL;

-- A period the merchant marked reconciled: locked until a payment created in it changes
-- (amount, state, deletion, a child added or changed) or is added, which reopens it and says which
-- payment did. The triggers below do that for every writer, so no code path can forget.
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
CREATE INDEX reconciled_periods_locked ON reconciled_periods (profile_id, from_ms)
    WHERE status = 'locked';

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

-- A payment that appears in a locked period later (a sync, an import, a report accepted)
-- changes its totals as much as a change to one already there.
CREATE TRIGGER payment_insert_reopens_period AFTER INSERT ON payments
BEGIN
    UPDATE reconciled_periods
    SET status = 'reopened', reopened_at_ms = new.updated_at_ms,
        reopened_by_payment_id = new.id, reopen_reason = 'payment_added'
    WHERE profile_id = new.profile_id AND status = 'locked'
      AND new.created_at_ms >= from_ms AND new.created_at_ms < to_ms;
END;

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

-- Lines of an acquirer's or bank's settlement file: what reached (or left) the merchant's
-- account. `amount_minor` is negative for a refund; `line_key` is the line's own values
-- (reference, order number, amount, settlement day) so importing a file twice adds nothing.
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
CREATE INDEX settlement_lines_by_reference ON settlement_lines (profile_id, reference)
    WHERE reference IS NOT NULL;
CREATE INDEX settlement_lines_by_order_no ON settlement_lines (profile_id, order_no)
    WHERE order_no IS NOT NULL;
