-- Message translation (issue 14). Keep in step with
-- ../sqlite/20261201000006_translation.sql.

-- The language a message was written in, detected when it was posted
-- (ISO 639-1, "en"); NULL when nobody could tell.
ALTER TABLE messages ADD COLUMN lang TEXT;

-- How a person reads messages in other languages: 'always' translated into
-- their interface language, 'ask' (a Translate control), or 'never'.
ALTER TABLE users ADD COLUMN translate_mode TEXT NOT NULL DEFAULT 'ask'
    CHECK (translate_mode IN ('always', 'ask', 'never'));
-- Languages they read without translation (ISO 639-1, space-separated).
ALTER TABLE users ADD COLUMN known_languages TEXT NOT NULL DEFAULT '';

-- Private rooms are not sent to the translation engine unless their owner
-- turns this on (public rooms are, when an engine is configured).
ALTER TABLE rooms ADD COLUMN translate_private BOOLEAN NOT NULL DEFAULT false;

-- One translation per message and language, of one version of the message:
-- readers see it only while that is still the message's version, so an
-- edit is never shown with the old text's translation.
CREATE TABLE message_translations (
    message_id UUID   NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    lang       TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    -- Sanitized again after the engine, with the rules of message HTML.
    html       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, lang)
);
