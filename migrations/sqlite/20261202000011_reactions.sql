-- Reactions: a person marks a message with an emoji (issue 15). Keep in
-- step with ../postgres/20261202000011_reactions.sql.
--
-- One row per message, person and emoji: reacting twice is reacting once.
-- No foreign key to messages: a message may still be on its way through
-- the queue when someone reacts to it.
CREATE TABLE reactions (
    message_id BLOB    NOT NULL,
    -- A deleted account's reactions go with it.
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- One emoji in its fully qualified form (core::reaction::Emoji).
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);

-- Each change of a message's reactions takes its room's next reaction seq:
-- pages say how far their reactions go, and a reconnecting socket is sent
-- every message whose reactions changed after what it heard.
ALTER TABLE rooms ADD COLUMN reactions_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reaction_changes (
    message_id BLOB    PRIMARY KEY,
    room_id    INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL
);
CREATE INDEX reaction_changes_room_seq ON reaction_changes (room_id, seq);
