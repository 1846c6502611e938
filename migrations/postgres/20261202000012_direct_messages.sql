-- Direct messages and the block list (issue 15). Keep in step with
-- ../sqlite/20261202000012_direct_messages.sql.
--
-- A direct conversation is a private room with no owner, no invitations
-- and no settings: its people are fixed when it starts. `direct_key` is
-- their account ids, sorted and joined by commas: starting a conversation
-- with the same people again opens the same room. NULL for other rooms.
ALTER TABLE rooms ADD COLUMN direct_key TEXT;
CREATE UNIQUE INDEX rooms_direct_key ON rooms (direct_key) WHERE direct_key IS NOT NULL;

-- Who blocked whom. A blocked person cannot start a conversation with the
-- one who blocked them (nor they with them), and neither may write in a
-- direct conversation they share. Blocks go with either account.
CREATE TABLE blocks (
    blocker_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);
