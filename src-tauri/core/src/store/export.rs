//! Export as Markdown (to read) and JSON (to keep or move), and import of that JSON.
//!
//! The JSON ([`ExportFile`]) holds every branch of each conversation, with each message's `uid` and its parent's,
//! and the images as base64 keyed by SHA-256. Importing is a merge keyed by those `uid`s: a conversation not in
//! the store is added as it was (title, times, current branch); for one already there, only messages it lacks
//! are added (its title is kept, and its head moves down onto imported continuations of the current branch).
//! So importing the same file twice adds nothing the second time, and export → import into an empty store →
//! export gives the same file (apart from `exported_at`). An answer exported while `streaming` comes back
//! `incomplete`. A file that is not valid is refused as a whole, before anything is written.

use super::images::{put_image_named, sha256_hex};
use super::messages::{self, MessageRow, MessageStatus};
use super::{conversations, now_ms, ConversationId, MessageId, Store};
use crate::chat::Role;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The value of [`ExportFile::format`].
pub const EXPORT_FORMAT: &str = "gemma-desk-conversations";
/// The export format's version; files with a higher one are refused.
pub const EXPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFile {
    pub format: String,
    pub version: u32,
    /// Milliseconds since the Unix epoch, like every time here.
    pub exported_at: i64,
    pub conversations: Vec<ExportConversation>,
    /// By SHA-256 (lowercase hex) of the bytes.
    #[serde(default)]
    pub images: BTreeMap<String, ExportImage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportConversation {
    pub uid: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The `uid` of the message on screen.
    pub head: Option<String>,
    /// Every branch; a parent always comes before its children.
    pub messages: Vec<ExportMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportMessage {
    pub uid: String,
    pub parent: Option<String>,
    pub role: Role,
    pub content: String,
    #[serde(default)]
    pub model: Option<String>,
    pub status: MessageStatus,
    #[serde(default)]
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it was last chosen among its versions.
    pub active_at: i64,
    /// SHA-256 names, in order.
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub trace: Option<Value>,
    #[serde(default)]
    pub stats: Option<Value>,
    /// What the model thought before answering; absent in files from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportImage {
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Standard base64.
    pub data: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Conversations that were not in the store.
    pub conversations_added: usize,
    /// Conversations already in the store that gained messages.
    pub conversations_merged: usize,
    pub messages_added: usize,
    /// Messages already in the store (same `uid`).
    pub messages_skipped: usize,
    pub images_added: usize,
}

fn collect(conn: &Connection, ids: &[ConversationId]) -> Result<ExportFile> {
    let mut file = ExportFile {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        exported_at: now_ms(),
        conversations: Vec::new(),
        images: BTreeMap::new(),
    };
    let mut msg_stmt = conn.prepare(
        "SELECT m.uid, p.uid, m.role, m.content, m.model, m.status, m.error, m.created_at, m.updated_at,
                m.active_at, m.trace, m.stats, m.id, m.thinking
         FROM messages m LEFT JOIN messages p ON p.id = m.parent_id
         WHERE m.conversation_id = ?1 ORDER BY m.id",
    )?;
    let mut img_stmt = conn.prepare("SELECT sha256 FROM message_images WHERE message_id = ?1 ORDER BY position")?;
    for &id in ids {
        let c = conversations::load(conn, id)?;
        let head = match c.head_id {
            Some(h) => Some(conn.query_row("SELECT uid FROM messages WHERE id = ?1", [h], |r| r.get(0))?),
            None => None,
        };
        let mut out = ExportConversation {
            uid: c.uid,
            title: c.title,
            created_at: c.created_at,
            updated_at: c.updated_at,
            head,
            messages: Vec::new(),
        };
        let rows = msg_stmt.query_map([id], |r| {
            let role: String = r.get(2)?;
            let status: String = r.get(5)?;
            Ok((
                ExportMessage {
                    uid: r.get(0)?,
                    parent: r.get(1)?,
                    role: messages::parse_role(&role),
                    content: r.get(3)?,
                    model: r.get(4)?,
                    status: MessageStatus::parse(&status),
                    error: r.get(6)?,
                    created_at: r.get(7)?,
                    updated_at: r.get(8)?,
                    active_at: r.get(9)?,
                    images: Vec::new(),
                    trace: None,
                    stats: None,
                    thinking: r.get(13)?,
                },
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
                r.get::<_, MessageId>(12)?,
            ))
        })?;
        for row in rows {
            let (mut m, trace, stats, mid) = row?;
            m.trace = trace.map(|t| serde_json::from_str(&t)).transpose().map_err(super::bad_json)?;
            m.stats = stats.map(|t| serde_json::from_str(&t)).transpose().map_err(super::bad_json)?;
            m.images = img_stmt.query_map([mid], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            for sha in &m.images {
                if !file.images.contains_key(sha) {
                    let img =
                        conn.query_row("SELECT mime, width, height, data FROM images WHERE sha256 = ?1", [sha], |r| {
                            Ok(ExportImage {
                                mime: r.get(0)?,
                                width: r.get(1)?,
                                height: r.get(2)?,
                                data: base64::engine::general_purpose::STANDARD.encode(r.get::<_, Vec<u8>>(3)?),
                            })
                        })?;
                    file.images.insert(sha.clone(), img);
                }
            }
            out.messages.push(m);
        }
        file.conversations.push(out);
    }
    Ok(file)
}

fn to_json(file: &ExportFile) -> Result<String> {
    serde_json::to_string_pretty(file).map_err(|e| Error::Other(format!("cannot write JSON: {e}")))
}

impl Store {
    /// One conversation (all its versions, images included) as JSON that [`Store::import_json`] takes back.
    pub fn export_json(&self, id: ConversationId) -> Result<String> {
        to_json(&collect(&self.conn(), &[id])?)
    }

    /// Every conversation, oldest activity first, images included.
    pub fn export_all_json(&self) -> Result<String> {
        let conn = self.conn();
        let ids: Vec<ConversationId> = conn
            .prepare("SELECT id FROM conversations ORDER BY updated_at, id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        to_json(&collect(&conn, &ids)?)
    }

    /// Adds the conversations of an [`ExportFile`] (see the module docs for how it merges). All or nothing.
    pub fn import_json(&self, json: &str) -> Result<ImportReport> {
        let bad = |reason: String| Error::BadInput { path: "import".into(), reason };
        let file: ExportFile =
            serde_json::from_str(json).map_err(|e| bad(format!("not a Gemma Desk conversations file: {e}")))?;
        if file.format != EXPORT_FORMAT {
            return Err(bad(format!("not a Gemma Desk conversations file (format \"{}\")", file.format)));
        }
        if file.version > EXPORT_VERSION {
            return Err(bad(format!(
                "written by a newer Gemma Desk (format version {}; this one reads up to {EXPORT_VERSION})",
                file.version
            )));
        }
        let mut images = Vec::new();
        for (sha, img) in &file.images {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&img.data)
                .map_err(|e| bad(format!("image {sha} is not valid base64: {e}")))?;
            if sha256_hex(&bytes) != *sha {
                return Err(bad(format!("image {sha} does not match its SHA-256 (damaged file)")));
            }
            images.push((sha, img, bytes));
        }
        self.write(|tx| {
            let mut report = ImportReport::default();
            for (sha, img, bytes) in &images {
                if put_image_named(tx, sha, &img.mime, img.width, img.height, bytes)? {
                    report.images_added += 1;
                }
            }
            for c in &file.conversations {
                import_conversation(tx, c, &mut report).map_err(|e| match e {
                    Error::BadInput { reason, .. } => bad(format!("conversation {}: {reason}", c.uid)),
                    other => other,
                })?;
            }
            // Images that were only in the file for messages already here.
            super::images::remove_orphans(tx)?;
            Ok(report)
        })
    }

    /// One conversation's current branch as Markdown, to read or share. Images appear as a note of their size
    /// (the JSON export carries them).
    pub fn export_markdown(&self, id: ConversationId, lang: Lang) -> Result<String> {
        let view = self.open_conversation(id)?;
        let title = if view.conversation.title.is_empty() {
            lang.pick("Untitled conversation", "未命名对话").to_string()
        } else {
            view.conversation.title.clone()
        };
        let mut md = format!("# {title}\n");
        for m in &view.messages {
            let who = match m.role {
                Role::User => lang.pick("You", "你").to_string(),
                Role::Assistant => match &m.model {
                    Some(model) => format!("{} ({model})", lang.pick("Assistant", "助手")),
                    None => lang.pick("Assistant", "助手").to_string(),
                },
                Role::System => lang.pick("System", "系统").to_string(),
                Role::Tool => lang.pick("Tool", "工具").to_string(),
            };
            md.push_str(&format!("\n## {who} · {}\n\n", local_time(m.created_at)));
            for step in m.trace.as_ref().and_then(Value::as_array).into_iter().flatten() {
                let tool = step.get("tool").and_then(Value::as_str);
                let observation = step.get("observation").and_then(Value::as_str);
                match (tool, observation) {
                    (Some(tool), Some(obs)) => {
                        let input = step.get("input").map(Value::to_string).unwrap_or_default();
                        md.push_str(&format!("> {} `{tool}` `{input}` → {obs}\n", lang.pick("Tool", "工具")));
                    }
                    _ => md.push_str(&format!("> {step}\n")),
                }
            }
            if m.trace.is_some() {
                md.push('\n');
            }
            if let Some(thinking) = m.thinking.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                // A quoted block under its own label, so a reader tells it from the answer.
                md.push_str(&format!("> **{}**\n>\n", lang.pick("Thinking", "思考过程")));
                for line in thinking.lines() {
                    md.push_str(&format!(">{}{line}\n", if line.is_empty() { "" } else { " " }));
                }
                md.push('\n');
            }
            if !m.content.is_empty() {
                md.push_str(m.content.trim_end());
                md.push('\n');
            }
            for (i, img) in m.images.iter().enumerate() {
                md.push_str(&match lang {
                    Lang::En => format!("\n*[image {}: {}×{}, {}]*\n", i + 1, img.width, img.height, img.mime),
                    Lang::Zh => format!("\n*[图片 {}：{}×{}，{}]*\n", i + 1, img.width, img.height, img.mime),
                });
            }
            match m.status {
                MessageStatus::Incomplete | MessageStatus::Streaming => {
                    md.push_str(lang.pick("\n*(incomplete answer)*\n", "\n*（回答不完整）*\n"))
                }
                MessageStatus::Error => md.push_str(&match lang {
                    Lang::En => format!("\n*(error: {})*\n", m.error.as_deref().unwrap_or("unknown")),
                    Lang::Zh => format!("\n*（出错：{}）*\n", m.error.as_deref().unwrap_or("未知")),
                }),
                MessageStatus::Complete => {}
            }
        }
        Ok(md)
    }
}

fn local_time(ms: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_millis_opt(ms) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.format("%Y-%m-%d %H:%M").to_string(),
        chrono::LocalResult::None => String::new(),
    }
}

fn import_conversation(tx: &Connection, c: &ExportConversation, report: &mut ImportReport) -> Result<()> {
    let bad = |reason: String| Error::BadInput { path: "import".into(), reason };
    let existing: Option<(ConversationId, Option<MessageId>)> = tx
        .query_row("SELECT id, head_id FROM conversations WHERE uid = ?1", [&c.uid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, local_head) = match existing {
        Some(found) => found,
        None => (conversations::insert(tx, Some(&c.uid), &c.title, c.created_at, c.updated_at)?, None),
    };
    // uid → id of this conversation's messages, those here already and those added.
    let mut ids: HashMap<String, MessageId> = tx
        .prepare("SELECT uid, id FROM messages WHERE conversation_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut added = 0;
    // Parents first, whatever the file's order.
    let mut pending: Vec<&ExportMessage> = c.messages.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut later = Vec::new();
        for m in pending {
            if ids.contains_key(&m.uid) {
                report.messages_skipped += 1;
                continue;
            }
            let parent = match &m.parent {
                None => None,
                Some(p) => match ids.get(p) {
                    Some(&pid) => Some(pid),
                    None => {
                        later.push(m);
                        continue;
                    }
                },
            };
            let elsewhere: Option<ConversationId> = tx
                .query_row("SELECT conversation_id FROM messages WHERE uid = ?1", [&m.uid], |r| r.get(0))
                .optional()?;
            if elsewhere.is_some() {
                return Err(bad(format!("message {} already belongs to another conversation", m.uid)));
            }
            for sha in &m.images {
                let known: bool =
                    tx.query_row("SELECT count(*) > 0 FROM images WHERE sha256 = ?1", [sha], |r| r.get(0))?;
                if !known {
                    return Err(bad(format!("message {} shows image {sha}, which the file does not contain", m.uid)));
                }
            }
            let status = if m.status == MessageStatus::Streaming { MessageStatus::Incomplete } else { m.status };
            let mid = messages::insert_row(
                tx,
                &MessageRow {
                    uid: Some(&m.uid),
                    conversation: id,
                    parent,
                    role: m.role,
                    content: &m.content,
                    model: m.model.as_deref(),
                    status,
                    error: m.error.as_deref(),
                    trace: m.trace.as_ref(),
                    stats: m.stats.as_ref(),
                    thinking: m.thinking.as_deref(),
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    active_at: m.active_at,
                },
            )?;
            super::images::link_images(tx, mid, &m.images)?;
            ids.insert(m.uid.clone(), mid);
            added += 1;
        }
        if later.len() == before {
            let m = later[0];
            return Err(bad(format!(
                "message {} follows message {}, which the file does not contain",
                m.uid,
                m.parent.as_deref().unwrap_or("")
            )));
        }
        pending = later;
    }
    report.messages_added += added;
    match existing {
        None => {
            report.conversations_added += 1;
            let head = match &c.head {
                Some(h) => Some(*ids.get(h).ok_or_else(|| bad(format!("its current message {h} is missing")))?),
                None => None,
            };
            conversations::set_head(tx, id, head, None)?;
        }
        Some(_) if added > 0 => {
            report.conversations_merged += 1;
            let start = local_head.or_else(|| c.head.as_ref().and_then(|h| ids.get(h).copied()));
            let head = start.map(|s| messages::descend(tx, s)).transpose()?;
            conversations::set_head(tx, id, head, None)?;
            tx.execute(
                "UPDATE conversations SET updated_at = max(updated_at, ?2) WHERE id = ?1",
                params![id, c.updated_at],
            )?;
        }
        Some(_) => {}
    }
    Ok(())
}
