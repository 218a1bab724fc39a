-- Lists a UI can scroll: the customer's email and phone from Ottu, exact totals from
-- maintained counts, and the indexes that keep keyset paging and search (by the start of
-- an order number, email, phone, session id or reference number) off full scans.

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

-- Search by the start of an order number, a customer email (any case) or a phone, so a
-- search reads only what it matches. Session ids use UNIQUE (profile_id, session_id), once
-- per profile. (An FTS5 trigram index would also find text in the middle, but a million
-- payments took 1.7 times as long to insert and 212 MB more, and a search made of common
-- trigrams such as "ord" or "@gm" took 7-14 ms at a million rows: ARCHITECTURE.md.)
CREATE INDEX payments_by_order_no_nocase ON payments (order_no COLLATE NOCASE)
    WHERE order_no IS NOT NULL;
CREATE INDEX payments_by_email ON payments (customer_email COLLATE NOCASE)
    WHERE customer_email IS NOT NULL;
CREATE INDEX payments_by_phone ON payments (customer_phone) WHERE customer_phone IS NOT NULL;

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
