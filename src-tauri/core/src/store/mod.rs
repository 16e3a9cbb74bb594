//! Conversations kept on disk so that none is ever lost: one SQLite file (`gemma-desk.db`) in the data folder.
//!
//! # How a UI uses it
//!
//! ```no_run
//! # use gemma_desk_core::store::{Store, NewMessage};
//! # fn demo() -> gemma_desk_core::Result<()> {
//! let store = Store::open("/path/to/app-data")?; // cheap to clone; Send + Sync
//! if let Some(e) = store.read_only() { /* show e.report(lang): a newer app wrote this file */ }
//! let sidebar = store.list_conversations()?; // newest activity first
//! let conv = store.create_conversation("")?; // the title follows the first user message
//! // 1. Save the user's message BEFORE sending it (it becomes the conversation's head).
//! let user = store.append(conv.id, NewMessage::user("What time is it in Tokyo?"))?;
//! // 2. What to send to the model: the path up to that message, images included.
//! let history = store.chat_history(user.id)?;
//! // 3. Stream the answer into the database as it grows.
//! let mut w = store.start_answer(user.id, "gemma3:4b")?;
//! w.push("It is ")?; // written at most every 250 ms (and by flush/finish)
//! w.push("9 pm.")?;
//! let answer = w.finish(None)?; // or w.fail("…"), w.interrupt(); dropping it marks it incomplete
//! // Regenerate: another answer to the same user message; the first one stays as a version.
//! let w2 = store.regenerate(answer.id, "gemma3:12b")?;
//! # drop(w2);
//! // Edit and resend: a new version of the user message (a sibling), then answer it.
//! let edited = store.edit_message(user.id, "What time is it in Osaka?", Vec::new())?;
//! // Show a conversation: the current path, each message with its `versions` (siblings, oldest first).
//! let view = store.open_conversation(conv.id)?;
//! // "< 1/2 >" on a message: switch to another version; the new current path comes back.
//! let path = store.switch_to(view.messages[0].versions[0])?;
//! # let _ = (sidebar, history, edited, path); Ok(()) }
//! ```
//!
//! Images are stored once by the SHA-256 of their prepared bytes ([`ImageInput`] from
//! [`crate::images::PreparedImage`]); messages list them as [`ImageRef`]s, and [`Store::image`] gives the bytes back.
//! [`Store::search`] finds conversations by title or message text (English words, Chinese of any length).
//! [`Store::export_markdown`], [`Store::export_json`], [`Store::export_all_json`] and [`Store::import_json`] move
//! conversations in and out (import is idempotent: see [`export`]).
//!
//! # Guarantees and the choices behind them
//!
//! - **Durability.** WAL journal with `synchronous=FULL`: every commit is fsynced, so a kill -9 *or a power cut*
//!   loses nothing committed. `NORMAL` would already survive kill -9, but could drop the last commits on power
//!   loss; our write rate (a few commits a second while streaming) makes the fsync affordable.
//! - **Streaming.** An answer is created with status `streaming` and [`StreamWriter`] writes its text at most every
//!   [`FLUSH_INTERVAL`]; opening the store turns rows left `streaming` (the app died) into `incomplete`.
//! - **Versions.** A conversation is a tree (`parent_id`); the conversation's `head` is the leaf on screen.
//!   Regenerating or editing adds a sibling; switching picks, below the chosen message, the most recently chosen
//!   child at each level, so going back to a version shows the branch as it was left.
//! - **Deletion is real.** `secure_delete=ON` zeroes freed space, the search index uses FTS5's `secure-delete`,
//!   and the WAL is checkpointed and truncated after a delete. (Backups made before a schema upgrade are older
//!   copies and keep what they had.)
//! - **Concurrency.** One connection behind a mutex per [`Store`] (calls are short; from async code use
//!   `spawn_blocking` or accept the brief block), a 5 s busy timeout, and write transactions that take the write
//!   lock up front (`BEGIN IMMEDIATE`), so another `Store` or another process (the CLI) can use the same file.
//! - **Schema upgrades** are numbered (`PRAGMA user_version`), run in one transaction after an online backup to
//!   `gemma-desk.db.bak-v<old>`, and never drop rows. A file from a newer app is opened read-only and left
//!   byte-for-byte unchanged: see [`Store::read_only`].

mod conversations;
pub mod export;
mod images;
mod messages;
mod schema;
mod stream;

pub use conversations::{Conversation, ConversationView, SearchHit, StoreStats};
pub use export::ImportReport;
pub use images::{ImageInput, ImageRef, StoredImage};
pub use messages::{MessageStatus, NewMessage, StoredMessage};
pub use schema::SCHEMA_VERSION;
pub use stream::{StreamWriter, FLUSH_INTERVAL};

use crate::error::{Error, Result};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The database's file name inside the data folder.
pub const DB_FILE_NAME: &str = "gemma-desk.db";

/// How long a call waits for another connection's write to finish before giving up with a "busy" error.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub type ConversationId = i64;
pub type MessageId = i64;

/// The conversation database. Clones share one connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Set when the file was written by a newer app: the schema version found there.
    newer_version: Option<u32>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("newer_version", &self.inner.newer_version)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database. `dir_or_path` is the data folder (the file is then
    /// [`DB_FILE_NAME`] inside it) or, when it names an existing file or ends in `.db`/`.sqlite`, the file itself.
    ///
    /// Upgrades an older schema (after a backup), turns answers left `streaming` by a crash into `incomplete`, and
    /// opens a file from a newer app read-only (check [`Store::read_only`]).
    pub fn open(dir_or_path: impl AsRef<Path>) -> Result<Store> {
        let path = resolve_path(dir_or_path.as_ref())?;
        let (conn, newer_version) = schema::open_and_migrate(&path)?;
        Ok(Store { inner: Arc::new(Inner { conn: Mutex::new(conn), path, newer_version }) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// `Some` when the file was written by a newer Gemma Desk: it is open read-only (reading works, every change
    /// fails with this same error) and the file is never modified. Show it to the user (`report(lang)`).
    pub fn read_only(&self) -> Option<Error> {
        self.inner.newer_version.map(|found| Error::StorageReadOnly { found, supported: SCHEMA_VERSION })
    }

    /// The connection, for reading. (A poisoned lock only means another thread panicked mid-call; SQLite's own
    /// transactions keep the data consistent, so carry on.)
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a write transaction that takes the write lock up front (no deadlock between two writers that
    /// both started as readers), committing if it returns `Ok`.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        if let Some(e) = self.read_only() {
            return Err(e);
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

/// Where the database file is.
fn resolve_path(p: &Path) -> Result<PathBuf> {
    let names_file = p.is_file()
        || matches!(p.extension().and_then(|e| e.to_str()), Some("db" | "sqlite" | "sqlite3")) && !p.is_dir();
    let (dir, file) = if names_file {
        (p.parent().map(Path::to_path_buf).unwrap_or_default(), p.to_path_buf())
    } else {
        (p.to_path_buf(), p.join(DB_FILE_NAME))
    };
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Storage { detail: format!("cannot create the folder {}: {e}", dir.display()) })?;
    }
    Ok(file)
}

/// Milliseconds since the Unix epoch: every time in the store.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::QueryReturnedNoRows = e {
            return Error::StorageNotFound { what: "record".into() };
        }
        let detail = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                "the database stayed busy (another Gemma Desk window or the CLI is writing to it)".to_string()
            }
            Some(ErrorCode::DiskFull) => "the disk is full".to_string(),
            Some(ErrorCode::ReadOnly) => "the database file cannot be written (read-only file or folder)".to_string(),
            Some(ErrorCode::NotADatabase) => "the file is not a Gemma Desk database, or it is damaged".to_string(),
            Some(ErrorCode::CannotOpen) => format!("cannot open the database file ({e})"),
            _ => e.to_string(),
        };
        Error::Storage { detail }
    }
}

/// Stored JSON (trace, stats) that does not parse: a damaged row, reported as a storage problem.
pub(crate) fn bad_json(e: serde_json::Error) -> Error {
    Error::Storage { detail: format!("stored JSON does not parse: {e}") }
}
