//! Opening the file, the schema and its numbered upgrades.
//!
//! Rules for every upgrade: it runs inside the one upgrade transaction (a failure leaves the file as it was), it
//! never drops a row (tables are rebuilt with SQLite's documented "create new, copy, drop, rename" procedure, with
//! foreign keys off so that dropping the old table deletes nothing else), and the file is copied first with the
//! online backup API to `<file>.bak-v<old version>`. Only the newest [`KEEP_BACKUPS`] such copies are kept.

use super::BUSY_TIMEOUT;
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The schema this version of the app writes. Files with a higher `user_version` are opened read-only.
pub const SCHEMA_VERSION: u32 = 3;

/// How many pre-upgrade backups to keep (the newest ones).
const KEEP_BACKUPS: usize = 2;

/// Upgrade `i` takes a file from version `i` to `i + 1`.
const MIGRATIONS: [fn(&Connection) -> rusqlite::Result<()>; SCHEMA_VERSION as usize] = [to_v1, to_v2, to_v3];

/// Version 1: conversations as flat lists of messages (`position`), images stored once.
fn to_v1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX conversations_by_activity ON conversations(updated_at DESC, id DESC);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL DEFAULT '',
            model TEXT,
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'streaming', 'incomplete', 'error')),
            error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (conversation_id, position)
        );
        CREATE TABLE images (
            sha256 TEXT PRIMARY KEY,
            mime TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE message_images (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sha256 TEXT NOT NULL REFERENCES images(sha256),
            PRIMARY KEY (message_id, position)
        );
        CREATE INDEX message_images_by_image ON message_images(sha256);",
    )
}

/// Version 2: versions (messages form a tree under `parent_id`, the conversation's `head_id` is the leaf shown,
/// `active_at` remembers which sibling was chosen last), agent trace and generation stats, full-text search.
///
/// Search uses an FTS5 index with the trigram tokenizer: the default `unicode61` tokenizer keeps a run of Chinese
/// characters as one token, so "几点" would never match "现在几点了"; trigrams match any substring of 3+ characters
/// in any script, through the index. Shorter terms (Chinese words are often 2 characters) fall back to `LIKE`, a
/// scan that is quick at a desktop's scale. The index is "external content" (the text lives once, in `messages`)
/// and uses FTS5's `secure-delete` so that deleted text leaves no trace in it.
fn to_v2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE conversations ADD COLUMN head_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;
        UPDATE conversations SET head_id =
            (SELECT id FROM messages m WHERE m.conversation_id = conversations.id ORDER BY position DESC LIMIT 1);
        CREATE INDEX conversations_by_head ON conversations(head_id);

        -- v1's columns again (a twin of to_v1's on purpose), less `position`: SQLite's ALTER TABLE cannot drop a
        -- column that a UNIQUE constraint uses, so the table is made anew and the rows copied.
        CREATE TABLE messages_v2 (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            -- No cascade here: a chain of cascades is limited to 1000 levels, and conversations are deleted whole.
            parent_id INTEGER REFERENCES messages(id),
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL DEFAULT '',
            model TEXT,
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'streaming', 'incomplete', 'error')),
            error TEXT,
            trace TEXT,
            stats TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            active_at INTEGER NOT NULL
        );
        -- A flat list becomes a single branch: each message's parent is the one before it.
        INSERT INTO messages_v2 (id, uid, conversation_id, parent_id, role, content, model, status, error,
                                 created_at, updated_at, active_at)
            SELECT m.id, m.uid, m.conversation_id,
                   (SELECT p.id FROM messages p WHERE p.conversation_id = m.conversation_id
                        AND p.position < m.position ORDER BY p.position DESC LIMIT 1),
                   m.role, m.content, m.model, m.status, m.error, m.created_at, m.updated_at, m.created_at
            FROM messages m;
        DROP TABLE messages;
        ALTER TABLE messages_v2 RENAME TO messages;
        CREATE INDEX messages_by_conversation ON messages(conversation_id);
        CREATE INDEX messages_children ON messages(parent_id, active_at);

        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content = 'messages', content_rowid = 'id', tokenize = 'trigram');
        INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');",
    )
}

/// Version 3: the model's thinking before its answer (Gemma 4), kept beside the answer rather than in it, so that
/// search, copying the answer and the history sent back stay the answer alone.
fn to_v3(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("ALTER TABLE messages ADD COLUMN thinking TEXT;")
}

/// Opens the file, upgrading it if it is older. Returns the connection and, for a file from a newer app, the
/// version found (the connection is then read-only).
pub(super) fn open_and_migrate(path: &Path) -> Result<(Connection, Option<u32>)> {
    if path.exists() {
        // Look without writing anything: a newer app's file must stay exactly as it is.
        let found = {
            let probe = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            probe.busy_timeout(BUSY_TIMEOUT)?;
            let found = user_version(&probe)?;
            if found == 0 {
                refuse_foreign(&probe, path)?;
            }
            found
        };
        if found > SCHEMA_VERSION {
            let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.pragma_update(None, "query_only", true)?;
            return Ok((conn, Some(found)));
        }
    }
    let conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&conn, path)?;
    // Answers still `streaming` were cut off when an app died: say so instead of showing them as in progress.
    // (Another process's live stream would also be marked; its writer sets `streaming` again at its next flush.)
    conn.execute("UPDATE messages SET status = 'incomplete' WHERE status = 'streaming'", [])?;
    Ok((conn, None))
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage { detail: format!("the database cannot use write-ahead logging (mode {mode})") });
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")?;
    Ok(())
}

/// A file with tables but no schema version is some other program's database: leave it alone.
fn refuse_foreign(conn: &Connection, path: &Path) -> Result<()> {
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get(0))?;
    if tables > 0 {
        return Err(Error::Storage {
            detail: format!("{} is not a Gemma Desk database (it has tables but no schema version)", path.display()),
        });
    }
    Ok(())
}

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    if user_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    // Foreign keys can only be switched outside a transaction; table rebuilds need them off (see module docs).
    conn.pragma_update(None, "foreign_keys", false)?;
    let outcome = (|| {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = upgrade_locked(conn, path);
        match result {
            Ok(backup) => {
                conn.execute_batch("COMMIT")?;
                Ok(backup)
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    })();
    conn.pragma_update(None, "foreign_keys", true)?;
    if outcome? {
        prune_backups(path);
    }
    Ok(())
}

/// The upgrade itself, holding the write lock. Returns whether a backup was made.
fn upgrade_locked(conn: &Connection, path: &Path) -> Result<bool> {
    // Read again under the lock: another process may have upgraded the file meanwhile.
    let from = user_version(conn)?;
    if from > SCHEMA_VERSION {
        return Err(Error::StorageReadOnly { found: from, supported: SCHEMA_VERSION });
    }
    if from == SCHEMA_VERSION {
        return Ok(false);
    }
    if from == 0 {
        refuse_foreign(conn, path)?;
    }
    let backup = if from > 0 { Some(backup(path, from)?) } else { None };
    let failed = |e: String| {
        let kept = backup.as_ref().map(|b| format!("; a copy from before is at {}", b.display())).unwrap_or_default();
        Error::Storage {
            detail: format!("could not upgrade the database from version {from} to {SCHEMA_VERSION} ({e}){kept}"),
        }
    };
    // References already dangling (an old app ran without foreign keys) must not lock the user out; new ones mean
    // an upgrade step is wrong.
    let dangling = || conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get::<_, i64>(0));
    let dangling_before = dangling()?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        step(conn).map_err(|e| failed(format!("step {}: {e}", i + 1)))?;
    }
    let dangling_after = dangling()?;
    if dangling_after > dangling_before {
        return Err(failed(format!("{} rows would refer to missing rows", dangling_after - dangling_before)));
    }
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(backup.is_some())
}

/// `gemma-desk.db` → `gemma-desk.db.bak-v1`.
pub(crate) fn backup_path(db: &Path, version: u32) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".bak-v{version}"));
    db.with_file_name(name)
}

/// Copies the database with the online backup API, to a temporary name first so that a crash never leaves a half
/// copy under the backup's name. Called while the upgrade holds the write lock, through a second connection: in
/// WAL mode it reads the last committed state (before the upgrade) and nobody can change it meanwhile. (The
/// backup cannot read through the connection that holds the write transaction.)
fn backup(path: &Path, version: u32) -> Result<PathBuf> {
    let dest = backup_path(path, version);
    let mut tmp = dest.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let io =
        |e: std::io::Error| Error::Storage { detail: format!("cannot back up the database before upgrading: {e}") };
    let reader = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    reader.busy_timeout(BUSY_TIMEOUT)?;
    reader.backup("main", &tmp, None).map_err(|e| match Error::from(e) {
        Error::Storage { detail } => {
            Error::Storage { detail: format!("cannot back up the database before upgrading it: {detail}") }
        }
        other => other,
    })?;
    // The copy inherits WAL mode; a rollback journal makes it one self-contained file.
    Connection::open(&tmp)?.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, &dest).map_err(io)?;
    Ok(dest)
}

/// Deletes all but the newest [`KEEP_BACKUPS`] pre-upgrade backups of this file. Best effort.
fn prune_backups(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!("{name}.bak-v");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut found: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let v = file.strip_prefix(&prefix)?.parse().ok()?;
            Some((v, e.path()))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    for (_, old) in found.into_iter().skip(KEEP_BACKUPS) {
        let _ = std::fs::remove_file(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_backups_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        for v in [1, 3, 2, 10] {
            std::fs::write(backup_path(&db, v), b"old").unwrap();
        }
        std::fs::write(dir.path().join("x.db.bak-vnot-a-number"), b"keep").unwrap();
        std::fs::write(dir.path().join("y.db.bak-v1"), b"keep").unwrap();
        prune_backups(&db);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["x.db.bak-v10", "x.db.bak-v3", "x.db.bak-vnot-a-number", "y.db.bak-v1"]);
    }
}
