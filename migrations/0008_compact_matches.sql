-- Compact matched items: a reconciliation of a million payments wrote both sides' JSON
-- for every item (about 600 MB), most of them `matched`, where both sides agree. A matched
-- item found by session id now keeps only the facts the sides agreed on, in columns, and
-- leaves `ledger_json`/`report_json` NULL; mismatches, queued items and items matched by
-- order or reference number keep both sides whole. Items written before this migration
-- keep their JSON.
ALTER TABLE reconciliation_items ADD COLUMN amount_minor INTEGER;
ALTER TABLE reconciliation_items ADD COLUMN state TEXT;
ALTER TABLE reconciliation_items ADD COLUMN created_at_ms INTEGER;
ALTER TABLE reconciliation_items ADD COLUMN refunded_minor INTEGER;
ALTER TABLE reconciliation_items ADD COLUMN captured_minor INTEGER;
ALTER TABLE reconciliation_items ADD COLUMN voided_minor INTEGER;
ALTER TABLE reconciliation_items ADD COLUMN report_line INTEGER;

-- Each side's state, currency and amount whatever the item's form: the one reading of
-- both forms for SQL (exports, sums).
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

-- Only decided items are looked up by payment (has a late change come after the accepted
-- decision?); indexing every item by payment cost a million index entries per run.
DROP INDEX reconciliation_items_by_payment;
CREATE INDEX reconciliation_items_decided ON reconciliation_items (reconciliation_id, payment_id)
    WHERE decision IS NOT NULL;

-- A payment whose creation time moves (a report gives Ottu's time to a payment imported by
-- id, which was dated at its import) leaves one period and enters another: both change,
-- as 0007's triggers reopen a locked period for any other change, whatever the writer.
-- The period it enters is `payment_added`, unless its amount, currency, state or deletion
-- changed in the same write (then `payment_changed`, as 0007's trigger says either way).
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
