-- What the ledger stores about a failure is a code plus the values its message is made
-- from (a JSON object), not English prose: the message is built when it is read, in the
-- reader's language. Rows written before this version keep their prose in paused_reason
-- and last_error; a reader falls back to it when no code is stored.
--
-- paused_reason stays set while a profile is paused (the queue's claim checks it): for a
-- new pause it holds the code, for an old one the prose.
ALTER TABLE profiles ADD COLUMN paused_code TEXT;
ALTER TABLE profiles ADD COLUMN paused_params TEXT
    CHECK (paused_params IS NULL OR json_type(paused_params) = 'object');
ALTER TABLE operations ADD COLUMN last_error_code TEXT;
ALTER TABLE operations ADD COLUMN last_error_params TEXT
    CHECK (last_error_params IS NULL OR json_type(last_error_params) = 'object');

-- A statement that rewrites the prose without the code (an older code path, a pause
-- lifted, an operation released) leaves no code behind that no longer stands for it.
CREATE TRIGGER profiles_paused_code_follows AFTER UPDATE OF paused_reason ON profiles
    WHEN new.paused_reason IS NOT old.paused_reason
     AND new.paused_code IS old.paused_code AND new.paused_params IS old.paused_params
BEGIN
    UPDATE profiles SET paused_code = NULL, paused_params = NULL WHERE id = new.id;
END;
CREATE TRIGGER operations_last_error_code_follows AFTER UPDATE OF last_error ON operations
    WHEN new.last_error IS NOT old.last_error
     AND new.last_error_code IS old.last_error_code
     AND new.last_error_params IS old.last_error_params
BEGIN
    UPDATE operations SET last_error_code = NULL, last_error_params = NULL WHERE id = new.id;
END;
