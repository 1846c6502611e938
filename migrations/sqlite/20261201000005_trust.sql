-- Ids are never reused, and a session belongs to one account for good.
-- Keep in step with ../postgres/20261201000005_trust.sql.
--
-- 1. `users.id` and `rooms.id` were plain INTEGER PRIMARY KEYs, which SQLite
--    hands out again once the newest row is deleted: a session or a link
--    naming a deleted account or room then named the next one. With
--    AUTOINCREMENT an id is never given twice. SQLite cannot add
--    AUTOINCREMENT to a table, so every table is rebuilt, data kept.
--    Migrations run inside a transaction with foreign keys enforced, where
--    dropping a parent table would cascade to its children and renaming one
--    would re-point them: new tables are created beside the old ones
--    (children referencing the new parents), filled, the old ones dropped
--    children first (nothing cascades), and the new ones renamed (which
--    re-points the references from `users_new` to `users`).
-- 2. The session epoch (an integer that moved on to end sessions) becomes a
--    random session key, drawn again whenever the account's sessions must
--    end: a session names its account by id and key, and a key never comes
--    back, whatever happens to ids.
-- 3. Sessions move into a table of ours, keyed to their account, so ending
--    an account's sessions is one DELETE (and deleting it cascades).
-- 4. `access_changes` carries changes of access made by another process (the
--    admin commands) to a server that has no Redis to hear them on.

CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    created_at    INTEGER NOT NULL,
    -- Drawn again on password change, disabling, role change: every session
    -- started under the previous key ends.
    session_key   TEXT    NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    locale        TEXT,
    theme         TEXT
);
INSERT INTO users_new (id, username, display_name, password_hash, role, created_at, disabled, locale, theme)
SELECT id, username, display_name, password_hash, role, created_at, disabled, locale, theme FROM users;

CREATE TABLE rooms_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    slug             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    visibility       TEXT    NOT NULL CHECK (visibility IN ('public', 'private')),
    indexable        INTEGER NOT NULL DEFAULT 0 CHECK (indexable IN (0, 1)),
    owner_id         INTEGER REFERENCES users_new (id) ON DELETE SET NULL,
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
INSERT INTO rooms_new SELECT id, slug, name, description, visibility, indexable, owner_id, last_seq, last_activity_at, created_at
FROM rooms;

CREATE TABLE room_members_new (
    room_id   INTEGER NOT NULL REFERENCES rooms_new (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users_new (id) ON DELETE CASCADE,
    read_seq  INTEGER NOT NULL DEFAULT 0,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
INSERT INTO room_members_new SELECT room_id, user_id, read_seq, joined_at FROM room_members;

CREATE TABLE messages_new (
    id         BLOB    PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms_new (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    author_id  INTEGER REFERENCES users_new (id) ON DELETE SET NULL,
    body       TEXT    NOT NULL,
    html       TEXT    NOT NULL,
    mentions   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted_at INTEGER
);
INSERT INTO messages_new SELECT id, room_id, seq, version, author_id, body, html, mentions, created_at, edited_at, deleted_at
FROM messages;

CREATE TABLE avatars_new (
    user_id    INTEGER PRIMARY KEY REFERENCES users_new (id) ON DELETE CASCADE,
    image      BLOB    NOT NULL,
    etag       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO avatars_new SELECT user_id, image, etag, updated_at FROM avatars;

CREATE TABLE known_devices_new (
    user_id      INTEGER NOT NULL REFERENCES users_new (id) ON DELETE CASCADE,
    token        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, token)
);
INSERT INTO known_devices_new SELECT user_id, token, created_at, last_used_at FROM known_devices;

CREATE TABLE room_invites_new (
    token      TEXT    PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms_new (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users_new (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
INSERT INTO room_invites_new SELECT token, room_id, created_by, created_at, revoked_at FROM room_invites;

CREATE TABLE room_days_new (
    room_id          INTEGER NOT NULL REFERENCES rooms_new (id) ON DELETE CASCADE,
    day              INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, day)
);
INSERT INTO room_days_new SELECT room_id, day, last_activity_at FROM room_days;

-- Children first: dropping a table empties it first, and no old table has
-- children left when it goes, so no foreign key action runs.
DROP TABLE room_days;
DROP TABLE room_invites;
DROP TABLE known_devices;
DROP TABLE avatars;
DROP TABLE messages;
DROP TABLE room_members;
DROP TABLE rooms;
DROP TABLE users;

ALTER TABLE users_new RENAME TO users;
ALTER TABLE rooms_new RENAME TO rooms;
ALTER TABLE room_members_new RENAME TO room_members;
ALTER TABLE messages_new RENAME TO messages;
ALTER TABLE avatars_new RENAME TO avatars;
ALTER TABLE known_devices_new RENAME TO known_devices;
ALTER TABLE room_invites_new RENAME TO room_invites;
ALTER TABLE room_days_new RENAME TO room_days;

CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX rooms_slug_key ON rooms (slug);
CREATE INDEX rooms_directory ON rooms (visibility, last_activity_at);
CREATE INDEX rooms_directory_name ON rooms (visibility, lower(name));
CREATE INDEX room_members_user ON room_members (user_id);
CREATE UNIQUE INDEX messages_room_seq ON messages (room_id, seq);
CREATE INDEX messages_room_version ON messages (room_id, version);
CREATE INDEX messages_room_created ON messages (room_id, created_at);
CREATE INDEX room_invites_room ON room_invites (room_id);

-- Signed-in sessions (tower-sessions records), one row each. `user_id` is
-- NULL for a session that holds no account.
CREATE TABLE sessions (
    -- The cookie's value.
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    -- The session's data, as JSON.
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
-- The session store's own table until now: its sessions carried the epoch,
-- which no longer exists, so everyone signs in again once.
DROP TABLE IF EXISTS tower_sessions;

-- Changes of access (core::access::AccessChange as JSON) written by a process
-- without Redis for the server to apply to its open sockets; the server
-- reads them within a second and deletes them after a minute.
CREATE TABLE access_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    change     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
