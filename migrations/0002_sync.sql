-- Sync with Ottu: how a profile authenticates (never the secret itself: that lives in the
-- OS keyring), whether its queue is paused by an auth failure, retries that replace an
-- operation, and when a payment was last read from Ottu.

ALTER TABLE profiles ADD COLUMN auth_kind TEXT NOT NULL DEFAULT 'api_key'
    CHECK (auth_kind IN ('api_key', 'basic'));
-- The dashboard user for Basic auth: a name, not a secret.
ALTER TABLE profiles ADD COLUMN basic_user TEXT;
-- Set when Ottu answered 401/403: the profile's queue waits until the merchant fixes it.
ALTER TABLE profiles ADD COLUMN paused_reason TEXT;
ALTER TABLE profiles ADD COLUMN paused_at_ms INTEGER;

-- `queue retry` makes a new operation with a new tracking key that replaces a failed or
-- blocked one; the original row stays as history.
ALTER TABLE operations ADD COLUMN retry_of INTEGER REFERENCES operations(id);
-- Send order within a payment. A retry takes the place (seq) of the operation it replaces,
-- so operations queued after it still follow it.
ALTER TABLE operations ADD COLUMN seq INTEGER;
UPDATE operations SET seq = id;
CREATE INDEX operations_by_payment_seq ON operations (payment_id, seq);
-- The failed or unresolved operation a `blocked` one waits on: retrying or resending that
-- one releases exactly these, not what another undecided failure holds.
ALTER TABLE operations ADD COLUMN held_by INTEGER REFERENCES operations(id);
-- One replacement per operation: a second `queue retry` of the same one would send twice.
CREATE UNIQUE INDEX operations_one_retry ON operations (retry_of) WHERE retry_of IS NOT NULL;
-- Set once the request may have reached Ottu (any answer but "unreachable" or 429, or an
-- interrupted attempt); never cleared. A sent operation can no longer be dropped, and is
-- retried only on the merchant's word that it did not take effect.
ALTER TABLE operations ADD COLUMN first_sent_at_ms INTEGER;
-- Ottu's reference for a succeeded external operation.
ALTER TABLE operations ADD COLUMN reference_number TEXT;
-- The claim query walks this in order: due time, then queue position.
CREATE INDEX operations_due ON operations (status, next_attempt_at_ms, seq);

ALTER TABLE payments ADD COLUMN refreshed_at_ms INTEGER;
-- Children whose final state Ottu has not told us yet (`refund_queued`).
CREATE INDEX children_by_state ON children (state, payment_id);
