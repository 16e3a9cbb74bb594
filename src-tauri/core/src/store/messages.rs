//! Messages: a tree per conversation (`parent_id`), the current path from the root to the conversation's head,
//! versions (siblings) and switching between them.

use super::images::{images_of, link_images, put_image, ImageInput, ImageRef};
use super::{bad_json, conversations, now_ms, ConversationId, MessageId, Store};
use crate::chat::{Message, Role};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Complete,
    /// Being written by a [`super::StreamWriter`].
    Streaming,
    /// Cut short: stopped by the user, or the app died while it streamed.
    Incomplete,
    /// The model failed; `error` says how (and `content` keeps what had arrived).
    Error,
}

impl MessageStatus {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Streaming => "streaming",
            MessageStatus::Incomplete => "incomplete",
            MessageStatus::Error => "error",
        }
    }

    pub(super) fn parse(s: &str) -> MessageStatus {
        match s {
            "streaming" => MessageStatus::Streaming,
            "incomplete" => MessageStatus::Incomplete,
            "error" => MessageStatus::Error,
            _ => MessageStatus::Complete,
        }
    }
}

pub(super) fn role_str(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

pub(super) fn parse_role(s: &str) -> Role {
    match s {
        "system" => Role::System,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        _ => Role::User,
    }
}

/// A message to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub role: Role,
    pub content: String,
    /// The model that wrote it (assistant messages).
    pub model: Option<String>,
    pub status: MessageStatus,
    pub error: Option<String>,
    /// In the order shown.
    pub images: Vec<ImageInput>,
    /// The agent's tool steps (e.g. a JSON array of `agent::Step`).
    pub trace: Option<Value>,
    /// Generation statistics (e.g. tokens per second, durations).
    pub stats: Option<Value>,
    /// What the model thought before answering.
    pub thinking: Option<String>,
}

impl NewMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        NewMessage {
            role,
            content: content.into(),
            model: None,
            status: MessageStatus::Complete,
            error: None,
            images: Vec::new(),
            trace: None,
            stats: None,
            thinking: None,
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
    pub fn assistant(content: impl Into<String>, model: impl Into<String>) -> Self {
        NewMessage { model: Some(model.into()), ..Self::new(Role::Assistant, content) }
    }
    pub fn with_images(mut self, images: Vec<ImageInput>) -> Self {
        self.images = images;
        self
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredMessage {
    pub id: MessageId,
    /// Stable across export and import.
    pub uid: String,
    pub conversation_id: ConversationId,
    /// `None` for a first message.
    pub parent_id: Option<MessageId>,
    pub role: Role,
    pub content: String,
    pub model: Option<String>,
    pub status: MessageStatus,
    pub error: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    pub images: Vec<ImageRef>,
    pub trace: Option<Value>,
    pub stats: Option<Value>,
    /// What the model thought before answering (Gemma 4), as it streamed.
    pub thinking: Option<String>,
    /// This message's versions: its siblings and itself, oldest first (at least one: itself). A UI shows
    /// "n / versions.len()" when there are several, and [`Store::switch_to`] another one.
    pub versions: Vec<MessageId>,
}

const COLUMNS: &str =
    "id, uid, conversation_id, parent_id, role, content, model, status, error, created_at, updated_at, \
                       trace, stats, thinking";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(StoredMessage, Option<String>, Option<String>)> {
    let role: String = r.get(4)?;
    let status: String = r.get(7)?;
    Ok((
        StoredMessage {
            id: r.get(0)?,
            uid: r.get(1)?,
            conversation_id: r.get(2)?,
            parent_id: r.get(3)?,
            role: parse_role(&role),
            content: r.get(5)?,
            model: r.get(6)?,
            status: MessageStatus::parse(&status),
            error: r.get(8)?,
            created_at: r.get(9)?,
            updated_at: r.get(10)?,
            images: Vec::new(),
            trace: None,
            stats: None,
            thinking: r.get(13)?,
            versions: Vec::new(),
        },
        r.get(11)?,
        r.get(12)?,
    ))
}

fn parse_json(text: Option<String>) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(bad_json)).transpose()
}

/// One message with its images and versions.
pub(super) fn load(conn: &Connection, id: MessageId) -> Result<StoredMessage> {
    let (mut m, trace, stats) = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| Error::StorageNotFound { what: format!("message {id}") })?;
    m.trace = parse_json(trace)?;
    m.stats = parse_json(stats)?;
    m.images = images_of(conn, id)?;
    m.versions = siblings(conn, m.conversation_id, m.parent_id)?;
    Ok(m)
}

// `+conversation_id` keeps SQLite on `messages_children (parent_id, …)`: with the plain column it picks
// `messages_by_conversation` and scans the whole conversation for every message it loads (opening 2,000 messages:
// 2.8 s of queries instead of 13 ms).
const SIBLINGS: &str =
    "SELECT id FROM messages WHERE +conversation_id = ?1 AND parent_id IS ?2 ORDER BY created_at, id";
const NEWEST_SIBLING: &str = "SELECT max(active_at) FROM messages WHERE +conversation_id = ?1 AND parent_id IS ?2";

fn siblings(conn: &Connection, conversation: ConversationId, parent: Option<MessageId>) -> Result<Vec<MessageId>> {
    let mut stmt = conn.prepare_cached(SIBLINGS)?;
    let ids = stmt.query_map(params![conversation, parent], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// The ids from the root down to `leaf`.
pub(super) fn path_ids(conn: &Connection, leaf: MessageId) -> Result<Vec<MessageId>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE path(id, depth) AS (
            SELECT ?1, 0
            UNION ALL
            SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id
            WHERE m.parent_id IS NOT NULL
         ) SELECT id FROM path ORDER BY depth DESC",
    )?;
    let ids = stmt.query_map([leaf], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn current_path(conn: &Connection, conversation: ConversationId) -> Result<Vec<StoredMessage>> {
    let head: Option<MessageId> = conn
        .query_row("SELECT head_id FROM conversations WHERE id = ?1", [conversation], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::StorageNotFound { what: format!("conversation {conversation}") })?;
    match head {
        None => Ok(Vec::new()),
        Some(head) => path_ids(conn, head)?.into_iter().map(|id| load(conn, id)).collect(),
    }
}

/// Following, from `from` down, the most recently chosen child at each level: the leaf a UI shows.
pub(super) fn descend(conn: &Connection, from: MessageId) -> Result<MessageId> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM messages WHERE parent_id = ?1 ORDER BY active_at DESC, id DESC LIMIT 1")?;
    let mut current = from;
    while let Some(child) = stmt.query_row([current], |r| r.get(0)).optional()? {
        current = child;
    }
    Ok(current)
}

/// An `active_at` that puts this message ahead of its siblings (strictly, even within one millisecond).
fn next_active_at(conn: &Connection, conversation: ConversationId, parent: Option<MessageId>) -> Result<i64> {
    let top: Option<i64> =
        conn.prepare_cached(NEWEST_SIBLING)?.query_row(params![conversation, parent], |r| r.get(0))?;
    Ok(now_ms().max(top.map_or(i64::MIN, |t| t + 1)))
}

/// A message row as written, for both new messages and imported ones.
pub(super) struct MessageRow<'a> {
    pub uid: Option<&'a str>,
    pub conversation: ConversationId,
    pub parent: Option<MessageId>,
    pub role: Role,
    pub content: &'a str,
    pub model: Option<&'a str>,
    pub status: MessageStatus,
    pub error: Option<&'a str>,
    pub trace: Option<&'a Value>,
    pub stats: Option<&'a Value>,
    pub thinking: Option<&'a str>,
    pub created_at: i64,
    pub updated_at: i64,
    pub active_at: i64,
}

pub(super) fn insert_row(conn: &Connection, row: &MessageRow<'_>) -> Result<MessageId> {
    conn.prepare_cached(
        "INSERT INTO messages (uid, conversation_id, parent_id, role, content, model, status, error, trace, stats,
                               created_at, updated_at, active_at, thinking)
         VALUES (coalesce(?1, lower(hex(randomblob(16)))), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        row.uid,
        row.conversation,
        row.parent,
        role_str(row.role),
        row.content,
        row.model,
        row.status.as_str(),
        row.error,
        row.trace.map(Value::to_string),
        row.stats.map(Value::to_string),
        row.created_at,
        row.updated_at,
        row.active_at,
        row.thinking,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Adds a message under `parent` (in the same conversation) and makes it the head.
pub(super) fn add(
    conn: &Connection,
    conversation: ConversationId,
    parent: Option<MessageId>,
    msg: &NewMessage,
) -> Result<MessageId> {
    conversations::ensure_exists(conn, conversation)?;
    if let Some(p) = parent {
        let owner: Option<ConversationId> =
            conn.query_row("SELECT conversation_id FROM messages WHERE id = ?1", [p], |r| r.get(0)).optional()?;
        if owner != Some(conversation) {
            return Err(Error::StorageNotFound { what: format!("message {p}") });
        }
    }
    let shas = msg.images.iter().map(|i| put_image(conn, i)).collect::<Result<Vec<_>>>()?;
    let now = now_ms();
    let id = insert_row(
        conn,
        &MessageRow {
            uid: None,
            conversation,
            parent,
            role: msg.role,
            content: &msg.content,
            model: msg.model.as_deref(),
            status: msg.status,
            error: msg.error.as_deref(),
            trace: msg.trace.as_ref(),
            stats: msg.stats.as_ref(),
            thinking: msg.thinking.as_deref(),
            created_at: now,
            updated_at: now,
            active_at: next_active_at(conn, conversation, parent)?,
        },
    )?;
    link_images(conn, id, &shas)?;
    conversations::set_head(conn, conversation, Some(id), Some(now))?;
    if msg.role == Role::User {
        conversations::title_if_untitled(conn, conversation, &msg.content)?;
    }
    Ok(id)
}

impl Store {
    /// Adds a message after the conversation's current head (the usual "send") and makes it the head. Save the
    /// user's message with this *before* sending it.
    pub fn append(&self, conversation: ConversationId, msg: NewMessage) -> Result<StoredMessage> {
        self.write(|tx| {
            let head: Option<MessageId> = tx
                .query_row("SELECT head_id FROM conversations WHERE id = ?1", [conversation], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::StorageNotFound { what: format!("conversation {conversation}") })?;
            let id = add(tx, conversation, head, &msg)?;
            load(tx, id)
        })
    }

    /// Adds a message under an explicit `parent` (`None`: a first message), e.g. a new version, and makes it the
    /// head.
    pub fn add_message(
        &self,
        conversation: ConversationId,
        parent: Option<MessageId>,
        msg: NewMessage,
    ) -> Result<StoredMessage> {
        self.write(|tx| {
            let id = add(tx, conversation, parent, &msg)?;
            load(tx, id)
        })
    }

    /// Edit and resend: a new version of `message` (same parent, role and model) with this text and images. The
    /// old version stays; the new one becomes the head, ready for [`Store::start_answer`].
    pub fn edit_message(
        &self,
        message: MessageId,
        content: impl Into<String>,
        images: Vec<ImageInput>,
    ) -> Result<StoredMessage> {
        let content = content.into();
        self.write(|tx| {
            let old = load(tx, message)?;
            let msg = NewMessage { model: old.model, images, ..NewMessage::new(old.role, content) };
            let id = add(tx, old.conversation_id, old.parent_id, &msg)?;
            load(tx, id)
        })
    }

    /// One message.
    pub fn message(&self, id: MessageId) -> Result<StoredMessage> {
        load(&self.conn(), id)
    }

    /// The messages on screen: from the first one to the conversation's head.
    pub fn current_path(&self, conversation: ConversationId) -> Result<Vec<StoredMessage>> {
        current_path(&self.conn(), conversation)
    }

    /// The versions of a message: its siblings and itself, oldest first.
    pub fn versions(&self, message: MessageId) -> Result<Vec<MessageId>> {
        Ok(self.message(message)?.versions)
    }

    /// Shows another version: `message` and, below it, the branch as it was last seen (the most recently chosen
    /// or added child at each level). Returns the new current path.
    pub fn switch_to(&self, message: MessageId) -> Result<Vec<StoredMessage>> {
        self.write(|tx| {
            let (conversation, parent): (ConversationId, Option<MessageId>) = tx
                .query_row("SELECT conversation_id, parent_id FROM messages WHERE id = ?1", [message], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .ok_or_else(|| Error::StorageNotFound { what: format!("message {message}") })?;
            let active_at = next_active_at(tx, conversation, parent)?;
            tx.execute("UPDATE messages SET active_at = ?1 WHERE id = ?2", params![active_at, message])?;
            let head = descend(tx, message)?;
            conversations::set_head(tx, conversation, Some(head), None)?;
            current_path(tx, conversation)
        })
    }

    /// What to send to the model to answer `upto` (usually the user's message just saved): the path from the
    /// first message to `upto`, images included. Leaves out failed answers and answers still streaming.
    pub fn chat_history(&self, upto: MessageId) -> Result<Vec<Message>> {
        let conn = self.conn();
        let mut out = Vec::new();
        for id in path_ids(&conn, upto)? {
            let m = load(&conn, id)?;
            if matches!(m.status, MessageStatus::Error | MessageStatus::Streaming)
                || (m.content.is_empty() && m.images.is_empty())
            {
                continue;
            }
            let mut msg = Message::new(m.role, m.content);
            for image in &m.images {
                let bytes: Vec<u8> =
                    conn.query_row("SELECT data FROM images WHERE sha256 = ?1", [&image.sha256], |r| r.get(0))?;
                let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
                // Audio clips are kept beside photos; each client places them (see `Message::audio`).
                if crate::turn::is_audio(&image.mime) {
                    msg.audio.push(b64);
                } else {
                    msg.images.push(b64);
                }
            }
            out.push(msg);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding a message's versions must go through its parent (`messages_children`), not scan the conversation.
    #[test]
    fn sibling_queries_use_the_parent_index() {
        let dir = tempfile::tempdir().unwrap();
        let (conn, _) = super::super::schema::open_and_migrate(&dir.path().join("t.db")).unwrap();
        for query in [SIBLINGS, NEWEST_SIBLING] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
                .unwrap()
                .query_map(params![1, 2], |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(plan.iter().any(|step| step.contains("messages_children")), "{query}: {plan:?}");
        }
    }
}
