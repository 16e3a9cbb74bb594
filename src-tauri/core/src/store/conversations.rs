//! Conversations: create, list by last activity, rename, delete for good, search.

use super::images::remove_orphans;
use super::messages::{self, StoredMessage};
use super::{now_ms, ConversationId, MessageId, Store};
use crate::error::{Error, Result};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::collections::HashMap;

/// A conversation as the sidebar lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    pub id: ConversationId,
    /// Stable across export and import.
    pub uid: String,
    /// Empty until set; the first user message sets it when it is still empty.
    pub title: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The last activity: a message added or written to.
    pub updated_at: i64,
    /// The last message on screen (`None` while the conversation is empty).
    pub head_id: Option<MessageId>,
}

/// A conversation opened: its messages from the first to the head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub messages: Vec<StoredMessage>,
}

/// What [`Store::stats`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    pub schema_version: u32,
    pub conversations: u64,
    /// Every version of every message.
    pub messages: u64,
    pub images: u64,
    pub file_bytes: u64,
    pub wal_bytes: u64,
}

/// A conversation found by [`Store::search`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    pub conversation: Conversation,
    /// The newest matching message (`None` when only the title matched). It may be on another branch than the
    /// current one: [`Store::switch_to`] it to show it.
    pub message_id: Option<MessageId>,
    /// A short excerpt around the first match (the title when only the title matched).
    pub snippet: String,
}

const COLUMNS: &str = "id, uid, title, created_at, updated_at, head_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        uid: r.get(1)?,
        title: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        head_id: r.get(5)?,
    })
}

pub(super) fn load(conn: &Connection, id: ConversationId) -> Result<Conversation> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::StorageNotFound { what: format!("conversation {id}") })
}

pub(super) fn ensure_exists(conn: &Connection, id: ConversationId) -> Result<()> {
    load(conn, id).map(|_| ())
}

/// Sets the head, and the last activity when `activity` is given.
pub(super) fn set_head(
    conn: &Connection,
    id: ConversationId,
    head: Option<MessageId>,
    activity: Option<i64>,
) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET head_id = ?2, updated_at = coalesce(?3, updated_at) WHERE id = ?1")?
        .execute(params![id, head, activity])?;
    Ok(())
}

pub(super) fn touch(conn: &Connection, id: ConversationId, at: i64) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET updated_at = max(updated_at, ?2) WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

/// Gives an untitled conversation a title from the first line of a user message.
pub(super) fn title_if_untitled(conn: &Connection, id: ConversationId, content: &str) -> Result<()> {
    let title = title_from(content);
    if !title.is_empty() {
        conn.execute("UPDATE conversations SET title = ?2 WHERE id = ?1 AND title = ''", params![id, title])?;
    }
    Ok(())
}

/// The first non-empty line, at most 60 characters.
fn title_from(content: &str) -> String {
    const MAX: usize = 60;
    let line = content.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.chars().count() <= MAX {
        return line.to_string();
    }
    let mut t: String = line.chars().take(MAX - 1).collect();
    t.push('…');
    t
}

pub(super) fn insert(conn: &Connection, uid: Option<&str>, title: &str, created: i64, updated: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO conversations (uid, title, created_at, updated_at)
         VALUES (coalesce(?1, lower(hex(randomblob(16)))), ?2, ?3, ?4)",
        params![uid, title, created, updated],
    )?;
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// A new, empty conversation. An empty `title` is filled in from the first user message.
    pub fn create_conversation(&self, title: &str) -> Result<Conversation> {
        self.write(|tx| {
            let now = now_ms();
            let id = insert(tx, None, title.trim(), now, now)?;
            load(tx, id)
        })
    }

    pub fn conversation(&self, id: ConversationId) -> Result<Conversation> {
        load(&self.conn(), id)
    }

    /// All conversations, the most recently active first.
    pub fn list_conversations(&self) -> Result<Vec<Conversation>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM conversations ORDER BY updated_at DESC, id DESC"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A conversation and its current path.
    pub fn open_conversation(&self, id: ConversationId) -> Result<ConversationView> {
        let conn = self.conn();
        Ok(ConversationView { conversation: load(&conn, id)?, messages: messages::current_path(&conn, id)? })
    }

    pub fn rename_conversation(&self, id: ConversationId, title: &str) -> Result<Conversation> {
        self.write(|tx| {
            if tx.execute("UPDATE conversations SET title = ?2 WHERE id = ?1", params![id, title.trim()])? == 0 {
                return Err(Error::StorageNotFound { what: format!("conversation {id}") });
            }
            load(tx, id)
        })
    }

    /// Deletes a conversation for good: its messages, its search-index entries and the images no other
    /// conversation uses. Freed space is zeroed (`secure_delete`) and the WAL is checkpointed and truncated, so
    /// the text is gone from the files, not just unlisted.
    pub fn delete_conversation(&self, id: ConversationId) -> Result<()> {
        self.write(|tx| {
            ensure_exists(tx, id)?;
            tx.execute(
                "DELETE FROM message_images WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1)",
                [id],
            )?;
            tx.execute("UPDATE conversations SET head_id = NULL WHERE id = ?1", [id])?;
            tx.execute("DELETE FROM messages WHERE conversation_id = ?1", [id])?;
            tx.execute("DELETE FROM conversations WHERE id = ?1", [id])?;
            remove_orphans(tx)?;
            Ok(())
        })?;
        self.checkpoint()
    }

    /// How much is stored, for diagnostics: counts and sizes only, never content.
    pub fn stats(&self) -> Result<StoreStats> {
        let conn = self.conn();
        let count = |table: &str| -> Result<u64> {
            Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))? as u64)
        };
        let file_bytes = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let wal = {
            let mut p = self.path().as_os_str().to_owned();
            p.push("-wal");
            std::path::PathBuf::from(p)
        };
        Ok(StoreStats {
            schema_version: super::schema::user_version(&conn)?,
            conversations: count("conversations")?,
            messages: count("messages")?,
            images: count("images")?,
            file_bytes: file_bytes(self.path()),
            wal_bytes: file_bytes(&wal),
        })
    }

    /// Copies the WAL into the database file and empties it. If another connection is reading, the copy may be
    /// partial; the next checkpoint finishes it.
    pub fn checkpoint(&self) -> Result<()> {
        if self.read_only().is_some() {
            return Ok(());
        }
        self.conn().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Conversations whose title or any message (on any branch) contains every word of `query`, ignoring case;
    /// the most recently active first, at most `limit`. Works for English words and for Chinese of any length
    /// (see the schema notes on trigram search).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let terms: Vec<&str> = query.split_whitespace().collect();
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let conn = self.conn();
        // Newest matching message per conversation.
        let mut found: HashMap<ConversationId, (MessageId, String)> = HashMap::new();
        {
            let (long, short): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.chars().count() >= 3);
            let mut sql = String::from("SELECT m.id, m.conversation_id, m.content FROM messages m WHERE 1");
            let mut args: Vec<String> = Vec::new();
            if !long.is_empty() {
                // Each word as an FTS5 phrase (quotes doubled), all required.
                let expr = long.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>();
                args.push(expr.join(" AND "));
                sql.push_str(" AND m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)");
            }
            for t in &short {
                args.push(like_pattern(t));
                sql.push_str(" AND m.content LIKE ? ESCAPE '\\'");
            }
            sql.push_str(" ORDER BY m.created_at DESC, m.id DESC");
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(args.iter()))?;
            while let Some(r) = rows.next()? {
                let conversation: ConversationId = r.get(1)?;
                if let std::collections::hash_map::Entry::Vacant(slot) = found.entry(conversation) {
                    let content: String = r.get(2)?;
                    slot.insert((r.get(0)?, snippet(&content, &terms)));
                }
            }
        }
        let mut hits = Vec::new();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM conversations ORDER BY updated_at DESC, id DESC"))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let c = from_row(r)?;
            let title_matches = terms.iter().all(|t| contains_ignoring_case(&c.title, t));
            let hit = match found.remove(&c.id) {
                Some((message_id, snippet)) => SearchHit { conversation: c, message_id: Some(message_id), snippet },
                None if title_matches => SearchHit { snippet: c.title.clone(), conversation: c, message_id: None },
                None => continue,
            };
            hits.push(hit);
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }
}

/// `%term%` with LIKE's wildcards in the term taken literally.
fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Where `needle` first occurs in `hay`, ignoring case (a byte offset into `hay`).
fn find_ignoring_case(hay: &str, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    hay.char_indices().map(|(i, _)| i).find(|&i| {
        let mut rest = hay[i..].chars().flat_map(char::to_lowercase);
        needle.iter().all(|n| rest.next() == Some(*n))
    })
}

fn contains_ignoring_case(hay: &str, needle: &str) -> bool {
    find_ignoring_case(hay, needle).is_some()
}

/// About 30 characters before the first match and 90 after, on one line.
fn snippet(content: &str, terms: &[&str]) -> String {
    let at = terms.iter().filter_map(|t| find_ignoring_case(content, t)).min().unwrap_or(0);
    let before: Vec<(usize, char)> = content[..at].char_indices().collect();
    let start = if before.len() > 30 { before[before.len() - 30].0 } else { 0 };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut cut = false;
    for (taken, c) in content[start..].chars().enumerate() {
        if taken == 30 + 90 {
            cut = true;
            break;
        }
        out.push(if c.is_whitespace() { ' ' } else { c });
    }
    if cut {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(title_from("\n  Hello there \nsecond"), "Hello there");
        let long = "字".repeat(100);
        let t = title_from(&long);
        assert_eq!(t.chars().count(), 60);
        assert!(t.ends_with('…'));
    }

    #[test]
    fn snippets_show_the_match_ignoring_case() {
        let text = format!("{} The WEATHER today is fine", "x".repeat(100));
        let s = snippet(&text, &["weather"]);
        assert!(s.starts_with('…') && s.contains("WEATHER today"), "{s}");
        assert_eq!(snippet("现在几点了？", &["几点"]), "现在几点了？");
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
