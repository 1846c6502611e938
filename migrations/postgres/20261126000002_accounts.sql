-- Accounts grow what sign-in, settings and moderation need.

-- Sessions carry the epoch they started in; moving it on ends them all
-- (password change, disabling).
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
-- A disabled account cannot sign in and its sessions end.
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
-- Preferred UI language and theme; NULL until chosen.
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN theme TEXT;

-- One re-encoded avatar per account, in the database so every server
-- process can serve it.
CREATE TABLE avatars (
    user_id    BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- A square WebP thumbnail.
    image      BYTEA   NOT NULL,
    etag       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- Browsers an account signed in on (by the random token of their device
-- cookie): they keep their own sign-in allowance when an attacker elsewhere
-- exhausts the account's.
CREATE TABLE known_devices (
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, token)
);
