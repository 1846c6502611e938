-- Full-text search over messages (issue 15). Keep in step with
-- ../sqlite/20261201000007_search.sql: both index every message that is
-- not deleted, and both follow edits and deletions on their own (a
-- generated column here, triggers there), so no code path can forget to.

-- The text search configuration of a message language (ISO 639-1): its
-- stemmer and stop words where PostgreSQL has them, else 'simple'.
CREATE FUNCTION message_search_config(lang TEXT) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE lang
        WHEN 'en' THEN 'pg_catalog.english'
        WHEN 'fr' THEN 'pg_catalog.french'
        WHEN 'de' THEN 'pg_catalog.german'
        WHEN 'es' THEN 'pg_catalog.spanish'
        WHEN 'pt' THEN 'pg_catalog.portuguese'
        WHEN 'it' THEN 'pg_catalog.italian'
        WHEN 'nl' THEN 'pg_catalog.dutch'
        WHEN 'ru' THEN 'pg_catalog.russian'
        WHEN 'el' THEN 'pg_catalog.greek'
        WHEN 'tr' THEN 'pg_catalog.turkish'
        WHEN 'ar' THEN 'pg_catalog.arabic'
        ELSE 'pg_catalog.simple'
    END)::regconfig
$$;

-- Each word twice: stemmed in the message's language (so "deployed" finds
-- "deploying" when the language is known) and as written ('simple', so a
-- word is found whatever language the searcher types in). NULL once the
-- message is deleted: it leaves the index with its text.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE WHEN deleted_at IS NULL
        THEN to_tsvector(message_search_config(lang), body) || to_tsvector('pg_catalog.simple'::regconfig, body)
    END
) STORED;
CREATE INDEX messages_search ON messages USING gin (search);

-- Search results come newest first, and may be narrowed to one author.
CREATE INDEX messages_author_created ON messages (author_id, created_at);
-- For a common word, walking the messages newest first and keeping those
-- that match fills a page at once, where the GIN index would hand over
-- every match to be sorted; the planner picks by how common the words are.
CREATE INDEX messages_newest ON messages (created_at, id);
