-- Invitation links to private rooms: the only way in. Revoking a link keeps
-- its row (so an old link says "revoked" rather than nothing).
CREATE TABLE room_invites (
    -- Random, unguessable; the link is /invite/{token}.
    token      TEXT    PRIMARY KEY,
    room_id    BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    created_by BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX room_invites_room ON room_invites (room_id);
