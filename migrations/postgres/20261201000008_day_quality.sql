-- Whether an archive day is worth a search engine's time (issue 15). Keep in
-- step with ../sqlite/20261201000008_day_quality.sql. The bar, in
-- `core::room::IndexQuality` (the numbers below are those of today, for
-- the days already stored): at least 3 messages from at least 2 people and
-- 300 characters of text, deleted messages not counted. The batch write
-- keeps it (core/src/store/messages.rs); a day below it is `noindex, follow`
-- and stays out of the sitemap.
ALTER TABLE room_days ADD COLUMN indexable BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE room_days SET indexable = (
    SELECT COUNT(*) >= 3 AND COUNT(DISTINCT m.author_id) >= 2 AND COALESCE(SUM(length(m.body)), 0) >= 300
    FROM messages m
    WHERE m.room_id = room_days.room_id AND m.deleted_at IS NULL
      AND m.created_at >= room_days.day * 86400000 AND m.created_at < (room_days.day + 1) * 86400000
);
