-- A person can keep their messages off search engines (issue 15). Keep in
-- step with ../postgres/20261201000010_search_opt_out.sql.
--
-- Read with every message (it travels with its author): on the pages of a
-- room search engines may index, signed-out readers and crawlers get such
-- a message without its words, and anonymous search does not find it.
-- Members, who are signed in, read it as ever.
ALTER TABLE users ADD COLUMN hidden_from_search INTEGER NOT NULL DEFAULT 0 CHECK (hidden_from_search IN (0, 1));
