-- The initial schema: accounts, rooms, memberships and messages.
-- Keep in step with ../postgres/20261126000001_initial.sql: same tables, same
-- columns, same meaning; only the types differ where the engines do.
-- Times are Unix milliseconds (UTC) in INTEGER columns on both engines.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- Shown in URLs and @mentions; ASCII letters, digits, '_' and '-'.
    username      TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    -- argon2id PHC string.
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    created_at    INTEGER NOT NULL
);
-- Usernames are unique whatever their case: 'Alice' and 'alice' are one person.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE rooms (
    id               INTEGER PRIMARY KEY,
    -- The room's address, /r/{slug}; derived from the name, never reused while the room exists.
    slug             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    visibility       TEXT    NOT NULL CHECK (visibility IN ('public', 'private')),
    -- Opt-in: search engines may index this public room's pages.
    indexable        INTEGER NOT NULL DEFAULT 0 CHECK (indexable IN (0, 1)),
    owner_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    -- The room's event counter: the highest seq given to a message, edit or deletion.
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX rooms_slug_key ON rooms (slug);
CREATE INDEX rooms_directory ON rooms (visibility, last_activity_at);

CREATE TABLE room_members (
    room_id   INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The highest seq this member has read: unread = messages above it.
    read_seq  INTEGER NOT NULL DEFAULT 0,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

CREATE TABLE messages (
    -- Chosen by the posting client: the idempotency key of the post.
    id         BLOB    PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Position in the room, fixed at posting.
    seq        INTEGER NOT NULL,
    -- The room event that produced the stored version (seq until edited or deleted).
    version    INTEGER NOT NULL,
    -- NULL once the author deleted their account: the message stays, unattributed.
    author_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT    NOT NULL,
    -- Sanitized HTML rendered from body when it was written.
    html       TEXT    NOT NULL,
    -- Mentioned usernames, space-separated.
    mentions   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    deleted_at INTEGER
);
-- History pages walk seq backwards; catch-up reads versions forwards.
CREATE UNIQUE INDEX messages_room_seq ON messages (room_id, seq);
CREATE INDEX messages_room_version ON messages (room_id, version);
