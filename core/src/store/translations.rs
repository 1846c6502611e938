//! Machine translations of messages: one row per message and language, of
//! one version of the message. A translation is written only while its
//! version is the message's, and read only while it still is: an edit
//! hides the old translation until the new one comes, a deletion removes it.

use std::collections::HashMap;

use sqlx::{FromRow, QueryBuilder};

use super::{Store, on_pool};
use crate::{
    Result,
    event::{MessageView, Translation},
    ids::{MessageId, RoomId, Seq, UnixMillis},
    languages::{Reading, TranslateMode, base_of, parse_known},
};

/// Who in a room reads translations: one entry per member who wants them
/// always, as the language they read and those they need no translation for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomReaders(Vec<(&'static str, Vec<&'static str>)>);

impl RoomReaders {
    /// The languages a message in `lang` must be translated into for them:
    /// each reader's language, unless they read `lang` already.
    pub fn targets(&self, lang: &str) -> Vec<&'static str> {
        let mut targets: Vec<&'static str> = Vec::new();
        for (reads, known) in &self.0 {
            if *reads != lang && !known.contains(&lang) && !targets.contains(reads) {
                targets.push(reads);
            }
        }
        targets
    }
}

#[derive(FromRow)]
struct TranslationRow {
    message_id: MessageId,
    lang: String,
    version: Seq,
    html: String,
}

/// A message still missing translations (the reconciliation pass).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Untranslated {
    pub message_id: MessageId,
    pub room_id: RoomId,
    pub version: Seq,
    pub lang: String,
}

impl Store {
    /// Stores a translation of `version` of a message. Idempotent; does
    /// nothing (and answers `false`) when the message has changed since, or
    /// was deleted, or a translation of a newer version is there.
    pub async fn put_translation(&self, message: MessageId, version: Seq, lang: &str, html: &str) -> Result<bool> {
        let sql = "INSERT INTO message_translations (message_id, lang, version, html, created_at)
                   SELECT $1, $2, $3, $4, $5
                   WHERE EXISTS (SELECT 1 FROM messages WHERE id = $1 AND version = $3 AND deleted_at IS NULL)
                   ON CONFLICT (message_id, lang) DO UPDATE SET version = excluded.version, html = excluded.html,
                       created_at = excluded.created_at
                   WHERE message_translations.version < excluded.version";
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(message)
            .bind(lang)
            .bind(version)
            .bind(html)
            .bind(UnixMillis::now())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done > 0)
    }

    /// The current translations into `lang` of some messages.
    pub async fn translations(&self, messages: &[MessageId], lang: &str) -> Result<HashMap<MessageId, Translation>> {
        let mut found = HashMap::new();
        for chunk in messages.chunks(super::messages::ROWS_PER_STATEMENT) {
            let rows = on_pool!(self, pool => {
                let mut query = QueryBuilder::new(
                    "SELECT t.message_id, t.lang, t.version, t.html FROM message_translations t
                     JOIN messages m ON m.id = t.message_id AND m.version = t.version AND m.deleted_at IS NULL
                     WHERE t.lang = ",
                );
                query.push_bind(lang).push(" AND t.message_id IN (");
                super::messages::push_ids(&mut query, chunk);
                query.build_query_as::<TranslationRow>().fetch_all(pool).await?
            });
            for row in rows {
                found.insert(row.message_id, Translation { lang: row.lang, version: row.version, html: row.html });
            }
        }
        Ok(found)
    }

    /// Puts on each message the translation `reading` gets with it: every
    /// one they need when they read "always", else only the one `asked`.
    pub async fn attach_translations(&self, messages: &mut [MessageView], reading: &Reading, asked: Option<MessageId>) -> Result<()> {
        let wanted: Vec<MessageId> = messages
            .iter()
            .filter(|m| reading.needs(m) && (reading.mode == TranslateMode::Always || Some(m.id) == asked))
            .map(|m| m.id)
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut found = self.translations(&wanted, &reading.lang).await?;
        for message in messages.iter_mut() {
            if let Some(translation) = found.remove(&message.id) {
                message.translation = Some(translation);
            }
        }
        Ok(())
    }

    /// The members of a room who read every message translated.
    pub async fn room_readers(&self, room: RoomId) -> Result<RoomReaders> {
        let sql = "SELECT u.locale, u.known_languages FROM room_members rm JOIN users u ON u.id = rm.user_id
                   WHERE rm.room_id = $1 AND u.translate_mode = $2 AND NOT u.disabled";
        let rows: Vec<(Option<String>, String)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(room)
            .bind(TranslateMode::Always.as_str())
            .fetch_all(pool)
            .await?);
        Ok(RoomReaders(
            rows.into_iter()
                .filter_map(|(locale, known)| Some((base_of(locale.as_deref()?)?, parse_known(&known))))
                .collect(),
        ))
    }

    /// Messages written since `since` in rooms that may be translated, in a
    /// known language, not deleted: what the reconciliation pass checks.
    pub async fn translatable_since(&self, since: UnixMillis, limit: u32) -> Result<Vec<Untranslated>> {
        let sql = "SELECT m.id AS message_id, m.room_id, m.version, m.lang FROM messages m JOIN rooms r ON r.id = m.room_id
                   WHERE m.created_at >= $1 AND m.lang IS NOT NULL AND m.deleted_at IS NULL
                     AND (r.visibility = 'public' OR r.translate_private)
                   ORDER BY m.created_at DESC LIMIT $2";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, Untranslated>(sql).bind(since).bind(i64::from(limit)).fetch_all(pool).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_each_readers_language_unless_they_read_the_original() {
        let readers = RoomReaders(vec![("es", vec![]), ("fr", vec!["en"]), ("es", vec!["fr"]), ("de", vec![])]);
        assert_eq!(readers.targets("en"), vec!["es", "de"]);
        assert_eq!(readers.targets("es"), vec!["fr", "de"]);
        assert_eq!(readers.targets("fr"), vec!["es", "de"]);
        assert!(RoomReaders::default().targets("en").is_empty());
    }
}
