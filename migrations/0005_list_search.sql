-- Lists a UI can scroll: the customer's email and phone from Ottu, substring search through
-- an FTS5 trigram index, exact totals from maintained counts, and the indexes that keep
-- keyset paging and reference-number search off full scans.

-- As Ottu's retrieve reply (or `payment add`) gave them; NULL when unknown.
-- `customer_reference` (0001) stays as it is.
ALTER TABLE payments ADD COLUMN customer_email TEXT;
ALTER TABLE payments ADD COLUMN customer_phone TEXT;

-- Paging one profile in list order without reading the others' rows.
CREATE INDEX payments_by_profile_newest ON payments (profile_id, created_at_ms DESC, id DESC);

-- Ottu's reference number of an operation the ledger sent (what its dashboard and the
-- bank show); searched by prefix, any case.
CREATE INDEX operations_by_reference ON operations (reference_number COLLATE NOCASE)
    WHERE reference_number IS NOT NULL;

-- Substring search of order number, email and phone (session ids are found by prefix
-- through UNIQUE (profile_id, session_id): they are random tokens, pasted whole, and their
-- trigrams would nearly double this index). External content: the text lives once, in
-- `payments`; the triggers below keep the index in step.
CREATE VIRTUAL TABLE payments_search USING fts5 (
    order_no, customer_email, customer_phone,
    content = 'payments', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO payments_search (payments_search) VALUES ('rebuild');

CREATE TRIGGER payments_search_insert AFTER INSERT ON payments
BEGIN
    INSERT INTO payments_search (rowid, order_no, customer_email, customer_phone)
    VALUES (new.id, new.order_no, new.customer_email, new.customer_phone);
END;

CREATE TRIGGER payments_search_update
AFTER UPDATE OF order_no, customer_email, customer_phone ON payments
BEGIN
    INSERT INTO payments_search (payments_search, rowid, order_no, customer_email, customer_phone)
    VALUES ('delete', old.id, old.order_no, old.customer_email, old.customer_phone);
    INSERT INTO payments_search (rowid, order_no, customer_email, customer_phone)
    VALUES (new.id, new.order_no, new.customer_email, new.customer_phone);
END;

CREATE TRIGGER payments_search_delete AFTER DELETE ON payments
BEGIN
    INSERT INTO payments_search (payments_search, rowid, order_no, customer_email, customer_phone)
    VALUES ('delete', old.id, old.order_no, old.customer_email, old.customer_phone);
END;

-- Payments per profile and state, so a list's total without a search or date range is a
-- sum of a few rows instead of a COUNT over up to every payment.
CREATE TABLE payment_counts (
    profile_id INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    n          INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (profile_id, state)
) STRICT;
INSERT INTO payment_counts (profile_id, state, n)
    SELECT profile_id, state, count(*) FROM payments GROUP BY profile_id, state;

CREATE TRIGGER payment_counts_insert AFTER INSERT ON payments
BEGIN
    INSERT INTO payment_counts (profile_id, state, n) VALUES (new.profile_id, new.state, 1)
    ON CONFLICT (profile_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER payment_counts_update AFTER UPDATE OF profile_id, state ON payments
WHEN old.profile_id IS NOT new.profile_id OR old.state IS NOT new.state
BEGIN
    UPDATE payment_counts SET n = n - 1 WHERE profile_id = old.profile_id AND state = old.state;
    INSERT INTO payment_counts (profile_id, state, n) VALUES (new.profile_id, new.state, 1)
    ON CONFLICT (profile_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER payment_counts_delete AFTER DELETE ON payments
BEGIN
    UPDATE payment_counts SET n = n - 1 WHERE profile_id = old.profile_id AND state = old.state;
END;
