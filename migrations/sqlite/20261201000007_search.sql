-- Full-text search over messages (issue 15). Keep in step with
-- ../postgres/20261201000007_search.sql: both index every message that is
-- not deleted, and both follow edits and deletions on their own (triggers
-- here, a generated column there), so no code path can forget to.
--
-- FTS5 rows are keyed by integers, and `messages` has none that lasts:
-- its key is a UUID, and the implicit rowid of such a table may change on
-- VACUUM. `message_search_rows` hands each indexed message a row number of
-- its own, in the order messages are first stored (about the order they
-- were posted), which an edit keeps: results come newest first by walking
-- the index backwards, without sorting every match.

CREATE TABLE message_search_rows (
    row        INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BLOB    NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE
);

-- unicode61 folds case and, with remove_diacritics 2, accents: "Café"
-- matches "cafe". The body is kept in the index for highlight().
CREATE VIRTUAL TABLE message_search USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL
BEGIN
    INSERT INTO message_search_rows (message_id) VALUES (new.id);
    INSERT INTO message_search (rowid, body) VALUES (last_insert_rowid(), new.body);
END;

-- Fired by the worker's upsert of a newer version (an edit or a deletion):
-- an edit is indexed again under the same row, a deletion leaves the index.
CREATE TRIGGER messages_search_update AFTER UPDATE OF body, deleted_at ON messages
BEGIN
    DELETE FROM message_search WHERE rowid = (SELECT row FROM message_search_rows WHERE message_id = old.id);
    DELETE FROM message_search_rows WHERE message_id = old.id AND new.deleted_at IS NOT NULL;
    INSERT INTO message_search (rowid, body)
    SELECT row, new.body FROM message_search_rows WHERE message_id = new.id AND new.deleted_at IS NULL;
END;

-- A deleted room takes its messages along (ON DELETE CASCADE fires this).
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM message_search WHERE rowid = (SELECT row FROM message_search_rows WHERE message_id = old.id);
END;

-- The messages stored before this migration, oldest first.
INSERT INTO message_search_rows (message_id)
SELECT id FROM messages WHERE deleted_at IS NULL ORDER BY created_at, id;
INSERT INTO message_search (rowid, body)
SELECT r.row, m.body FROM message_search_rows r JOIN messages m ON m.id = r.message_id;

-- Search results come newest first, and may be narrowed to one author.
CREATE INDEX messages_author_created ON messages (author_id, created_at);
