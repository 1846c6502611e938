-- Public rooms for readers and search engines: the days a room has messages
-- (its archive pages and sitemap entries), and indexes for the directory's
-- search and the archive's day pages.

-- One row per room and UTC day with at least one message, kept by the
-- worker's batch write. The sitemap and the archive's previous/next links
-- read this table instead of scanning every message.
CREATE TABLE room_days (
    room_id          INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Days since 1970-01-01 (UTC).
    day              INTEGER NOT NULL,
    -- Newest post, edit or deletion of a message of that day: the sitemap's lastmod.
    last_activity_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, day)
);

INSERT INTO room_days (room_id, day, last_activity_at)
SELECT room_id, created_at / 86400000, MAX(COALESCE(deleted_at, edited_at, created_at))
FROM messages
GROUP BY room_id, created_at / 86400000;

-- An archive page reads one day of one room.
CREATE INDEX messages_room_created ON messages (room_id, created_at);
-- The directory sorts public rooms by name.
CREATE INDEX rooms_directory_name ON rooms (visibility, lower(name));
