-- Replies and threads (issue 15). Keep in step with
-- ../sqlite/20261201000009_threads.sql.
--
-- A reply names the message it answers (reply_to) and its thread: the
-- first message of the chain (thread_id), so answering a reply stays in the
-- same thread. Both are set when the reply is posted and never change.
-- Replies stay in the room's timeline too (unread counts and mentions count
-- them like any message); the thread is a second way to read them.
ALTER TABLE messages ADD COLUMN reply_to uuid;
ALTER TABLE messages ADD COLUMN thread_id uuid;
-- A thread's page walks its replies by seq.
CREATE INDEX messages_thread ON messages (thread_id, seq) WHERE thread_id IS NOT NULL;

-- One row per message that has (or had) replies, kept by the batch write
-- (core/src/store/messages.rs) from the thread's messages, like room_days.
CREATE TABLE threads (
    root_id          uuid    PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    room_id          BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- Replies not deleted, and when the newest of them was posted.
    replies          BIGINT  NOT NULL,
    last_reply_at    BIGINT,
    -- The newest post, edit or deletion in the thread: its sitemap lastmod.
    last_activity_at BIGINT  NOT NULL,
    -- The thread meets core::room::IndexQuality (its first message and
    -- replies, deleted ones not counted).
    indexable        BOOLEAN NOT NULL DEFAULT FALSE,
    -- Its first message was deleted: the thread's page answers 410 Gone.
    deleted          BOOLEAN NOT NULL DEFAULT FALSE
);
-- The sitemap lists a room's threads.
CREATE INDEX threads_room ON threads (room_id, last_activity_at);
