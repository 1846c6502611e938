-- A session belongs to one account for good.
-- Keep in step with ../sqlite/20261201000005_trust.sql (identity columns
-- never give an id twice, so only SQLite rebuilds its tables).
--
-- 1. The session epoch (an integer that moved on to end sessions) becomes a
--    random session key, drawn again whenever the account's sessions must
--    end: a session names its account by id and key.
-- 2. Sessions move into a table of ours, keyed to their account, so ending
--    an account's sessions is one DELETE (and deleting it cascades).
-- 3. `access_changes` carries changes of access made by another process (the
--    admin commands) to a server that has no Redis to hear them on.

ALTER TABLE users ADD COLUMN session_key TEXT NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
ALTER TABLE users DROP COLUMN session_epoch;

CREATE TABLE sessions (
    id         TEXT   PRIMARY KEY,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
-- The session store's own schema until now: its sessions carried the epoch,
-- which no longer exists, so everyone signs in again once.
DROP SCHEMA IF EXISTS tower_sessions CASCADE;

CREATE TABLE access_changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    change     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
