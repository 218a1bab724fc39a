-- Credential generation: bumped in the same transaction as every `profile set-key` and
-- `profile remove-key` (any process). A long-running sync worker caches one client per
-- profile; each claim reads this number, and a claim whose number differs from the cached
-- client's makes a new client from the keyring first, so a key set or removed takes effect
-- on the very next request (a rotated key is never sent after the merchant replaced it,
-- and an old key's 401 answered after the change does not pause the profile).
ALTER TABLE profiles ADD COLUMN credential_gen INTEGER NOT NULL DEFAULT 0;
