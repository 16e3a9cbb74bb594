//! The conversation store (`gemma_desk_core::store`) on real files: upgrades, read-only files from newer apps,
//! concurrent writers, a writer killed with SIGKILL mid-stream, deletion that leaves no trace, search, versions,
//! export and import.

use gemma_desk_core::chat::Role;
use gemma_desk_core::store::export::ExportFile;
use gemma_desk_core::store::{ImageInput, MessageStatus, NewMessage, Store, DB_FILE_NAME, SCHEMA_VERSION};
use gemma_desk_core::{Error, Lang};
use serde_json::json;
use std::io::BufRead;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

fn new_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

fn image(marker: &str) -> ImageInput {
    let mut bytes = b"\x89PNG fake image ".to_vec();
    bytes.extend(marker.repeat(4).as_bytes());
    ImageInput { bytes, mime: "image/png".into(), width: 4, height: 3 }
}

fn contents(path: &[gemma_desk_core::store::StoredMessage]) -> Vec<&str> {
    path.iter().map(|m| m.content.as_str()).collect()
}

#[test]
fn a_new_database_uses_the_current_schema_in_wal_mode() {
    let (dir, store) = new_store();
    assert_eq!(store.path(), dir.path().join(DB_FILE_NAME));
    assert!(store.read_only().is_none());
    let conn = raw(store.path());
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    // No backup for a new file.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!names.iter().any(|n| n.contains(".bak-")), "{names:?}");
    // A path to a file works too.
    let other = dir.path().join("elsewhere.db");
    let s2 = Store::open(&other).unwrap();
    assert_eq!(s2.path(), other);
}

#[test]
fn a_version_1_database_is_upgraded_after_a_backup_without_losing_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    {
        let conn = raw(&db);
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).unwrap();
        conn.execute_batch(include_str!("fixtures/store-v1.sql")).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();

    let conn = raw(&db);
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    for (table, n) in [("conversations", 2), ("messages", 6), ("images", 1), ("message_images", 1)] {
        assert_eq!(count(&conn, table), n, "{table}");
    }

    // The backup is the file as it was.
    let backup = dir.path().join(format!("{DB_FILE_NAME}.bak-v1"));
    let old = rusqlite::Connection::open_with_flags(&backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let old_version: u32 = old.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(old_version, 1);
    assert_eq!(count(&old, "messages"), 6);
    let has_position: i64 = old
        .query_row("SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'position'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(has_position, 1);

    // The flat list became one branch, in `position` order (not `id` order), ending at the last message.
    let list = store.list_conversations().unwrap();
    assert_eq!(list.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["时间", "Weather in Lisbon"]);
    let lisbon = &list[1];
    assert_eq!(lisbon.uid, "c0000000000000000000000000000001");
    let path = store.current_path(lisbon.id).unwrap();
    assert_eq!(
        contents(&path),
        [
            "What is the weather like in Lisbon?",
            "Sunny and 24 °C.",
            "And what is in this photo?",
            "It shows a tram on a steep"
        ]
    );
    assert_eq!(path[0].parent_id, None);
    for pair in path.windows(2) {
        assert_eq!(pair[1].parent_id, Some(pair[0].id));
    }
    assert_eq!(path[1].model.as_deref(), Some("gemma3:4b"));
    assert_eq!(path[1].created_at, 1700000010000);
    assert_eq!(path[1].updated_at, 1700000020000);
    // The answer a v1 app left streaming is now marked incomplete.
    assert_eq!(path[3].status, MessageStatus::Incomplete);
    // The photo is still there.
    assert_eq!(path[2].images.len(), 1);
    let img = store.image(&path[2].images[0].sha256).unwrap();
    assert_eq!(&img.bytes[..4], b"\x89PNG");
    assert_eq!((img.info.width, img.info.height, img.info.mime.as_str()), (1, 1, "image/png"));
    // The error and its text.
    let time = store.current_path(list[0].id).unwrap();
    assert_eq!(time[1].status, MessageStatus::Error);
    assert_eq!(time[1].error.as_deref(), Some("Ollama answered 500: boom"));
    // Old messages are in the new search index.
    assert_eq!(store.search("lisbon", 10).unwrap()[0].conversation.id, lisbon.id);
    assert_eq!(store.search("几点", 10).unwrap()[0].conversation.id, list[0].id);
    // And the conversation goes on from where it was.
    let next = store.append(lisbon.id, NewMessage::user("Thanks!")).unwrap();
    assert_eq!(next.parent_id, Some(path[3].id));
    drop(store);

    // Opening again changes nothing more and makes no new backup.
    let before = std::fs::read(&backup).unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.current_path(lisbon.id).unwrap().len(), 5);
    assert_eq!(std::fs::read(&backup).unwrap(), before);
    let backups = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".bak-"))
        .count();
    assert_eq!(backups, 1);
}

#[test]
fn a_failed_upgrade_leaves_the_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    {
        let conn = raw(&db);
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).unwrap();
        conn.execute_batch(include_str!("fixtures/store-v1.sql")).unwrap();
        // In the way of the upgrade's own work table: its step 2 fails halfway.
        conn.execute_batch("CREATE TABLE messages_v2 (x); INSERT INTO messages_v2 VALUES (1);").unwrap();
    }
    let e = Store::open(dir.path()).unwrap_err();
    assert_eq!(e.kind(), "storage");
    let text = e.message(Lang::En);
    assert!(text.contains("from version 1 to") && text.contains(".bak-v1"), "{text}");
    let conn = raw(&db);
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 1);
    let head_column: i64 = conn
        .query_row("SELECT count(*) FROM pragma_table_info('conversations') WHERE name = 'head_id'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(head_column, 0, "half an upgrade was kept");
    assert_eq!(count(&conn, "messages"), 6);
    assert!(dir.path().join(format!("{DB_FILE_NAME}.bak-v1")).exists());
}

#[test]
fn a_database_from_a_newer_app_is_opened_read_only_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = {
        let store = Store::open(dir.path()).unwrap();
        let c = store.create_conversation("Kept").unwrap();
        store.append(c.id, NewMessage::user("hello")).unwrap();
        store.path().to_path_buf()
    };
    raw(&db).pragma_update(None, "user_version", 99).unwrap();
    let bytes = std::fs::read(&db).unwrap();

    let store = Store::open(dir.path()).unwrap();
    let e = store.read_only().expect("read-only");
    assert_eq!(e, Error::StorageReadOnly { found: 99, supported: SCHEMA_VERSION });
    assert_eq!(e.kind(), "storage_read_only");
    assert!(e.message(Lang::En).contains("newer") && e.message(Lang::En).contains("99"), "{}", e.message(Lang::En));
    assert!(e.message(Lang::Zh).contains("只读"));
    assert!(e.hint(Lang::Zh).unwrap().contains("更新"));
    // Reading works…
    let list = store.list_conversations().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(contents(&store.current_path(list[0].id).unwrap()), ["hello"]);
    // …changing does not.
    assert_eq!(store.create_conversation("x").unwrap_err().kind(), "storage_read_only");
    assert_eq!(store.append(list[0].id, NewMessage::user("more")).unwrap_err().kind(), "storage_read_only");
    assert_eq!(store.delete_conversation(list[0].id).unwrap_err().kind(), "storage_read_only");
    assert_eq!(store.import_json(&store.export_all_json().unwrap()).unwrap_err().kind(), "storage_read_only");
    drop(store);
    assert!(std::fs::read(&db).unwrap() == bytes, "the file changed");
    let version: u32 = raw(&db).query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 99);
}

#[test]
fn a_foreign_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.db");
    raw(&db).execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');").unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let e = Store::open(&db).unwrap_err();
    assert_eq!(e.kind(), "storage");
    assert!(e.message(Lang::En).contains("not a Gemma Desk database"), "{}", e.message(Lang::En));
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}

#[test]
fn threads_and_two_stores_on_one_file_write_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path()).unwrap();
    let b = Store::open(dir.path()).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || {
                let c = store.create_conversation(&format!("thread {t}")).unwrap();
                for i in 0..25 {
                    let role = if i % 2 == 0 { Role::User } else { Role::Assistant };
                    store.append(c.id, NewMessage::new(role, format!("t{t} m{i}"))).unwrap();
                }
                c.id
            })
        })
        .collect();
    let ids: Vec<i64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    drop((a, b));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.list_conversations().unwrap().len(), 4);
    for (t, id) in ids.into_iter().enumerate() {
        let path = store.current_path(id).unwrap();
        let expected: Vec<String> = (0..25).map(|i| format!("t{t} m{i}")).collect();
        assert_eq!(contents(&path), expected);
    }
}

/// The child process of `a_writer_killed_mid_stream_leaves_the_user_message_and_the_streamed_prefix`.
const CHILD_ENV: &str = "GEMMA_DESK_STORE_CRASH_CHILD";

fn chunk(i: usize) -> String {
    format!("word{i} ")
}

/// Does nothing unless run as the child: then streams an answer forever, reporting each write on stdout.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let store = Store::open(&dir).unwrap();
    let c = store.create_conversation("").unwrap();
    let user = store.append(c.id, NewMessage::user("Tell me a long story")).unwrap();
    println!("USER {}", user.id);
    let mut w = store.start_answer(user.id, "gemma3:4b").unwrap();
    for i in 0.. {
        if w.push(&chunk(i)).unwrap() {
            println!("FLUSHED {}", w.content().len());
            use std::io::Write;
            std::io::stdout().flush().unwrap();
        }
        std::thread::sleep(Duration::from_millis(3));
        if i > 200_000 {
            // Never reached in the test: the parent kills this process long before.
            break;
        }
    }
}

#[test]
fn a_writer_killed_mid_stream_leaves_the_user_message_and_the_streamed_prefix() {
    let dir = tempfile::tempdir().unwrap();
    // The child's name as libtest knows it: this module's path without the test crate's name.
    let child_test = format!("{}::crash_child", module_path!().split_once("::").unwrap().1);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([child_test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut user_id = None;
    let mut flushed = Vec::new();
    while flushed.len() < 5 {
        // A guard against a hung child, not a timing assertion.
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("the child stopped reporting");
        // (libtest may print "test store::crash_child ... " before the child's first line.)
        if let Some(at) = line.find("USER ") {
            user_id = Some(line[at + 5..].trim().parse::<i64>().unwrap());
        } else if let Some(n) = line.strip_prefix("FLUSHED ") {
            flushed.push(n.parse::<usize>().unwrap());
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no checkpoint
    child.wait().unwrap();
    let at_least = *flushed.last().unwrap();

    let store = Store::open(dir.path()).unwrap();
    let list = store.list_conversations().unwrap();
    assert_eq!(list.len(), 1);
    let path = store.current_path(list[0].id).unwrap();
    assert_eq!(path.len(), 2);
    assert_eq!(path[0].id, user_id.unwrap());
    assert_eq!((path[0].role, path[0].content.as_str()), (Role::User, "Tell me a long story"));
    assert_eq!(path[0].status, MessageStatus::Complete);
    let answer = &path[1];
    assert_eq!(answer.role, Role::Assistant);
    assert_eq!(answer.status, MessageStatus::Incomplete);
    assert!(answer.content.len() >= at_least, "{} < {at_least}", answer.content.len());
    let expected: String = (0..answer.content.len()).map(chunk).collect();
    assert!(expected.starts_with(&answer.content), "not a prefix of the stream: {:?}", answer.content);
    assert!(answer.content.ends_with(' '), "cut inside a chunk: {:?}", answer.content);
}

#[test]
fn a_stream_is_saved_as_it_grows_and_ends_with_a_status() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let c = store.create_conversation("").unwrap();
    let user = store.append(c.id, NewMessage::user("  \n What time is it?\nin Tokyo")).unwrap();
    assert_eq!(store.conversation(c.id).unwrap().title, "What time is it?");

    let mut w = store.start_answer(user.id, "gemma3:4b").unwrap().with_interval(Duration::ZERO);
    assert!(w.push("Let me check").unwrap());
    // Another connection (e.g. the CLI) already sees it.
    let reader = Store::open(dir.path()).unwrap();
    // Opening marked it incomplete (it cannot tell a live stream from a dead one)…
    assert_eq!(reader.message(w.id()).unwrap().status, MessageStatus::Incomplete);
    w.retract();
    w.push_step(json!({"thought": "t", "tool": "get_time", "input": {"zone": "Asia/Tokyo"}, "observation": "21:00"}))
        .unwrap();
    assert!(w.push("It is 9 pm.").unwrap());
    // …and the writer's next write says streaming again.
    let live = reader.message(w.id()).unwrap();
    assert_eq!((live.status, live.content.as_str()), (MessageStatus::Streaming, "It is 9 pm."));
    let done = w.finish(Some(json!({"tokens_per_second": 42.5}))).unwrap();
    assert_eq!(done.status, MessageStatus::Complete);
    assert_eq!(done.content, "It is 9 pm.");
    assert_eq!(done.trace.as_ref().unwrap()[0]["tool"], "get_time");
    assert_eq!(done.stats.as_ref().unwrap()["tokens_per_second"], 42.5);
    assert_eq!(done.model.as_deref(), Some("gemma3:4b"));
    assert_eq!(store.conversation(c.id).unwrap().head_id, Some(done.id));

    // Batched: a push within the interval is not written yet.
    let mut w = store.regenerate(done.id, "gemma3:4b").unwrap().with_interval(Duration::from_secs(3600));
    w.push("a").unwrap();
    w.flush().unwrap();
    assert!(!w.push("b").unwrap());
    assert_eq!(reader.message(w.id()).unwrap().content, "a");
    let id = w.id();
    drop(w); // dropped without an ending: written and marked incomplete
    let m = store.message(id).unwrap();
    assert_eq!((m.status, m.content.as_str()), (MessageStatus::Incomplete, "ab"));

    let mut w = store.regenerate(done.id, "gemma3:4b").unwrap();
    w.push("partial").unwrap();
    let failed = w.fail("Ollama stopped with an error: out of memory").unwrap();
    assert_eq!(failed.status, MessageStatus::Error);
    assert_eq!(failed.content, "partial");
    assert_eq!(failed.error.as_deref(), Some("Ollama stopped with an error: out of memory"));
    // Failed answers are not sent back to the model.
    let history = store.chat_history(failed.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].role, Role::User);

    let w = store.regenerate(done.id, "gemma3:4b").unwrap();
    assert_eq!(w.interrupt().unwrap().status, MessageStatus::Incomplete);
}

#[test]
fn regenerate_and_edit_keep_earlier_versions() {
    let (_dir, store) = new_store();
    let c = store.create_conversation("Versions").unwrap();
    let u1 = store.append(c.id, NewMessage::user("first question")).unwrap();
    let a1 = store.start_answer(u1.id, "m").unwrap();
    let a1 = {
        let mut w = a1;
        w.push("answer one").unwrap();
        w.finish(None).unwrap()
    };
    let u2 = store.append(c.id, NewMessage::user("follow-up")).unwrap();
    assert_eq!(u2.parent_id, Some(a1.id));

    // Regenerate the first answer: a sibling; the follow-up is on the old branch.
    let mut w = store.regenerate(a1.id, "m").unwrap();
    w.push("answer two").unwrap();
    let a2 = w.finish(None).unwrap();
    let path = store.current_path(c.id).unwrap();
    assert_eq!(contents(&path), ["first question", "answer two"]);
    assert_eq!(path[1].versions, [a1.id, a2.id]);
    assert_eq!(store.versions(a1.id).unwrap(), [a1.id, a2.id]);

    // Back to the first answer: its branch comes back with the follow-up.
    let path = store.switch_to(a1.id).unwrap();
    assert_eq!(contents(&path), ["first question", "answer one", "follow-up"]);
    assert_eq!(store.conversation(c.id).unwrap().head_id, Some(u2.id));

    // Edit the first question and resend: a new root version.
    let e1 = store.edit_message(u1.id, "first question, better", Vec::new()).unwrap();
    assert_eq!(e1.parent_id, None);
    assert_eq!(e1.versions, [u1.id, e1.id]);
    let mut w = store.start_answer(e1.id, "m").unwrap();
    w.push("answer three").unwrap();
    w.finish(None).unwrap();
    assert_eq!(contents(&store.current_path(c.id).unwrap()), ["first question, better", "answer three"]);
    assert_eq!(store.chat_history(e1.id).unwrap().len(), 1);

    // Back to the original question: shows the branch as it was left (answer one, not the newer answer two).
    let path = store.switch_to(u1.id).unwrap();
    assert_eq!(contents(&path), ["first question", "answer one", "follow-up"]);
    // And switching answers there remembers the choice too.
    store.switch_to(a2.id).unwrap();
    store.switch_to(e1.id).unwrap();
    assert_eq!(contents(&store.switch_to(u1.id).unwrap()), ["first question", "answer two"]);
    let view = store.open_conversation(c.id).unwrap();
    assert_eq!(view.messages[0].versions.len(), 2);
    assert_eq!(store.message(a2.id).unwrap().versions.len(), 2);
}

#[test]
fn search_finds_english_words_and_short_chinese_queries() {
    let (_dir, store) = new_store();
    let weather = store.create_conversation("").unwrap();
    store.append(weather.id, NewMessage::user("What's the weather in Paris?")).unwrap();
    let rainy = store.append(weather.id, NewMessage::assistant("Rainy, 12 °C.", "m")).unwrap();
    let time = store.create_conversation("").unwrap();
    let q = store.append(time.id, NewMessage::user("现在几点了？")).unwrap();
    let a = store.append(time.id, NewMessage::assistant("现在是下午三点。", "m")).unwrap();
    let shop = store.create_conversation("Groceries").unwrap();
    store.append(shop.id, NewMessage::user("milk and eggs")).unwrap();

    let ids = |q: &str| store.search(q, 10).unwrap().into_iter().map(|h| h.conversation.id).collect::<Vec<_>>();
    let hits = store.search("几点", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].conversation.id, hits[0].message_id), (time.id, Some(q.id)));
    assert!(hits[0].snippet.contains("几点"));
    assert_eq!(store.search("三点", 10).unwrap()[0].message_id, Some(a.id));
    assert_eq!(ids("下午三点"), [time.id]);
    assert_eq!(ids("点"), [time.id]);
    assert_eq!(ids("weather"), [weather.id]);
    assert_eq!(ids("WEATHER paris"), [weather.id]);
    assert_eq!(ids("ain"), [weather.id]);
    assert!(ids("weather 几点").is_empty());
    assert!(ids("%").is_empty(), "LIKE wildcards must be literal");
    assert!(ids("tokyo").is_empty());
    assert!(ids("   ").is_empty());
    let by_title = store.search("groceries", 10).unwrap();
    assert_eq!((by_title[0].conversation.id, by_title[0].message_id), (shop.id, None));
    // Several matches: the most recently active first, each conversation once, at most `limit`.
    assert_eq!(ids("e"), [shop.id, weather.id]);
    assert_eq!(ids("a").len(), 2);
    assert_eq!(store.search("a", 1).unwrap().len(), 1);
    // Earlier versions are searched too.
    let mut w = store.regenerate(rainy.id, "m").unwrap();
    w.push("Sunny").unwrap();
    w.finish(None).unwrap();
    assert_eq!(store.search("rainy", 10).unwrap()[0].message_id, Some(rainy.id));
    assert_eq!(ids("sunny"), [weather.id]);
}

fn file_contains(path: &Path, needle: &[u8]) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle),
        Err(_) => false,
    }
}

#[test]
fn a_deleted_conversation_is_gone_from_the_files() {
    let (dir, store) = new_store();
    let secret = "zebra-quokka-7781-secret";
    let img_secret = "PIXELS-5521-SECRET";
    let keep = store.create_conversation("Keep me").unwrap();
    store.append(keep.id, NewMessage::user("an unrelated conversation that stays")).unwrap();
    let c = store.create_conversation(&format!("Trip {secret}")).unwrap();
    store
        .append(
            c.id,
            NewMessage::user(format!("My code is {secret}, remember it")).with_images(vec![image(img_secret)]),
        )
        .unwrap();
    let u = store.append(c.id, NewMessage::user(format!("again: {secret}"))).unwrap();
    let mut w = store.start_answer(u.id, "m").unwrap().with_interval(Duration::ZERO);
    for word in ["Noted: ", secret, " is safe", " with me."] {
        w.push(word).unwrap();
    }
    w.finish(None).unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    let wal = dir.path().join(format!("{DB_FILE_NAME}-wal"));
    store.checkpoint().unwrap();
    // The test can see the secret while it is there.
    assert!(file_contains(&db, secret.as_bytes()));
    assert!(file_contains(&db, img_secret.as_bytes()));

    store.delete_conversation(c.id).unwrap();
    for f in [&db, &wal] {
        assert!(!file_contains(f, secret.as_bytes()), "{} still holds the text", f.display());
        assert!(!file_contains(f, img_secret.as_bytes()), "{} still holds the image", f.display());
    }
    assert!(store.search("quokka", 10).unwrap().is_empty());
    assert_eq!(store.conversation(c.id).unwrap_err().kind(), "storage_not_found");
    assert_eq!(store.list_conversations().unwrap().len(), 1);
    drop(store);
    assert!(!file_contains(&db, secret.as_bytes()));
    let conn = raw(&db);
    assert_eq!(count(&conn, "images"), 0);
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')", []).unwrap();
}

#[test]
fn images_are_stored_once_and_removed_with_their_last_conversation() {
    let (dir, store) = new_store();
    let shared = image("shared");
    let a = store.create_conversation("a").unwrap();
    let b = store.create_conversation("b").unwrap();
    let ma =
        store.append(a.id, NewMessage::user("two photos").with_images(vec![image("first"), shared.clone()])).unwrap();
    store.append(b.id, NewMessage::user("same photo").with_images(vec![shared.clone()])).unwrap();
    assert_eq!(ma.images.len(), 2);
    assert_eq!((ma.images[1].width, ma.images[1].height), (4, 3));
    let conn = raw(&dir.path().join(DB_FILE_NAME));
    assert_eq!(count(&conn, "images"), 2);
    // Reopened, the message shows its images in order, with their bytes.
    let reopened = Store::open(dir.path()).unwrap();
    let m = &reopened.current_path(a.id).unwrap()[0];
    assert_eq!(m.images, ma.images);
    assert_eq!(reopened.image(&m.images[1].sha256).unwrap().bytes, shared.bytes);
    assert!(reopened.image(&m.images[0].sha256).unwrap().data_uri().starts_with("data:image/png;base64,"));
    // History for the model carries them as base64.
    assert_eq!(reopened.chat_history(m.id).unwrap()[0].images.len(), 2);

    store.delete_conversation(a.id).unwrap();
    assert_eq!(count(&conn, "images"), 1);
    assert!(store.image(&ma.images[1].sha256).is_ok());
    assert_eq!(store.image(&ma.images[0].sha256).unwrap_err().kind(), "storage_not_found");
    store.delete_conversation(b.id).unwrap();
    assert_eq!(count(&conn, "images"), 0);
}

/// Two conversations with branches, an image, a trace, stats, an error and a Chinese one.
fn fill(store: &Store) {
    let c = store.create_conversation("Photos and time").unwrap();
    let u = store.append(c.id, NewMessage::user("What is this?").with_images(vec![image("cat")])).unwrap();
    let mut w = store.start_answer(u.id, "gemma3:4b").unwrap();
    w.push("A cat.").unwrap();
    let a = w.finish(Some(json!({"tokens_per_second": 12.5, "completion_tokens": 3}))).unwrap();
    let mut w = store.regenerate(a.id, "gemma3:12b").unwrap();
    w.push_step(json!({"thought": "", "tool": "now", "input": {}, "observation": "12:00"})).unwrap();
    w.push("A tabby cat, at noon.").unwrap();
    w.finish(None).unwrap();
    store.switch_to(a.id).unwrap();
    let e = store.edit_message(u.id, "What animal is this?", vec![image("cat")]).unwrap();
    let w = store.start_answer(e.id, "gemma3:4b").unwrap();
    w.fail("Ollama stopped with an error: boom").unwrap();
    store.switch_to(u.id).unwrap();
    let c2 = store.create_conversation("").unwrap();
    let u2 = store.append(c2.id, NewMessage::user("现在几点了？")).unwrap();
    let mut w = store.start_answer(u2.id, "gemma3:1b").unwrap();
    w.push("现在是").unwrap();
    w.interrupt().unwrap();
}

fn without_time(json: &str) -> ExportFile {
    let mut f: ExportFile = serde_json::from_str(json).unwrap();
    f.exported_at = 0;
    f
}

#[test]
fn export_and_import_round_trip_without_loss_or_duplicates() {
    let (_d1, one) = new_store();
    fill(&one);
    let exported = one.export_all_json().unwrap();
    let file = without_time(&exported);
    assert_eq!(file.conversations.len(), 2);
    assert_eq!(file.conversations[0].messages.len(), 5);
    assert_eq!(file.images.len(), 1);

    let (_d2, two) = new_store();
    let report = two.import_json(&exported).unwrap();
    assert_eq!((report.conversations_added, report.messages_added, report.images_added), (2, 7, 1));
    assert_eq!(without_time(&two.export_all_json().unwrap()), file);
    // What a user sees is the same.
    let (l1, l2) = (one.list_conversations().unwrap(), two.list_conversations().unwrap());
    assert_eq!(
        l1.iter().map(|c| (&c.uid, &c.title, c.updated_at)).collect::<Vec<_>>(),
        l2.iter().map(|c| (&c.uid, &c.title, c.updated_at)).collect::<Vec<_>>()
    );
    for (c1, c2) in l1.iter().zip(&l2) {
        let (p1, p2) = (one.current_path(c1.id).unwrap(), two.current_path(c2.id).unwrap());
        let key = |m: &gemma_desk_core::store::StoredMessage| {
            (
                m.uid.clone(),
                m.content.clone(),
                m.status,
                m.images.clone(),
                m.trace.clone(),
                m.stats.clone(),
                m.versions.len(),
            )
        };
        assert_eq!(p1.iter().map(key).collect::<Vec<_>>(), p2.iter().map(key).collect::<Vec<_>>());
    }
    assert_eq!(one.export_markdown(l1[0].id, Lang::En).unwrap(), two.export_markdown(l2[0].id, Lang::En).unwrap());

    // Twice: nothing new.
    let again = two.import_json(&exported).unwrap();
    assert_eq!((again.conversations_added, again.conversations_merged, again.messages_added), (0, 0, 0));
    assert_eq!(again.messages_skipped, 7);
    assert_eq!(without_time(&two.export_all_json().unwrap()), file);
    // Back into the store it came from: nothing new either.
    assert_eq!(one.import_json(&one.export_json(l1[0].id).unwrap()).unwrap().messages_added, 0);

    // The conversation went on in `one`: importing it again into `two` adds just the new messages and shows them.
    let cont = one.append(l1[1].id, NewMessage::user("and now?")).unwrap();
    let merged = two.import_json(&one.export_json(l1[1].id).unwrap()).unwrap();
    assert_eq!((merged.conversations_merged, merged.messages_added), (1, 1));
    let c = two.list_conversations().unwrap().into_iter().find(|c| c.uid == l1[1].uid).unwrap();
    assert_eq!(two.current_path(c.id).unwrap().last().unwrap().uid, cont.uid);
}

#[test]
fn a_damaged_import_changes_nothing() {
    let (_d1, one) = new_store();
    fill(&one);
    let mut file: ExportFile = serde_json::from_str(&one.export_all_json().unwrap()).unwrap();
    let (_d2, two) = new_store();
    for img in file.images.values_mut() {
        img.data = "aGVsbG8=".into();
    }
    let e = two.import_json(&serde_json::to_string(&file).unwrap()).unwrap_err();
    assert_eq!(e.kind(), "bad_input");
    assert!(e.message(Lang::En).contains("SHA-256"), "{}", e.message(Lang::En));
    let mut file: ExportFile = serde_json::from_str(&one.export_all_json().unwrap()).unwrap();
    file.conversations[1].messages[0].parent = Some("nowhere".into());
    let e = two.import_json(&serde_json::to_string(&file).unwrap()).unwrap_err();
    assert!(e.message(Lang::En).contains("nowhere"), "{}", e.message(Lang::En));
    assert!(two.list_conversations().unwrap().is_empty());
    assert_eq!(two.import_json("{\"hello\": 1}").unwrap_err().kind(), "bad_input");
}

#[test]
fn markdown_export_reads_well_in_both_languages() {
    let (_dir, store) = new_store();
    fill(&store);
    let list = store.list_conversations().unwrap();
    let en = store.export_markdown(list[1].id, Lang::En).unwrap();
    assert!(en.starts_with("# Photos and time\n"), "{en}");
    assert!(en.contains("## You · ") && en.contains("## Assistant (gemma3:4b) · "), "{en}");
    assert!(en.contains("What is this?\n\n*[image 1: 4×3, image/png]*"), "{en}");
    assert!(en.contains("A cat."));
    let zh = store.export_markdown(list[0].id, Lang::Zh).unwrap();
    assert!(zh.starts_with("# 现在几点了？\n"), "{zh}");
    assert!(zh.contains("## 你 · ") && zh.contains("现在是\n\n*（回答不完整）*"), "{zh}");
    // The regenerated answer with its tool step.
    let a2 = store.current_path(list[1].id).unwrap()[1].versions[1];
    store.switch_to(a2).unwrap();
    let en = store.export_markdown(list[1].id, Lang::En).unwrap();
    assert!(en.contains("> Tool `now` `{}` → 12:00\n\nA tabby cat, at noon."), "{en}");
}

#[test]
fn missing_things_are_reported_as_not_found_in_both_languages() {
    let (_dir, store) = new_store();
    let e = store.append(12345, NewMessage::user("hi")).unwrap_err();
    assert_eq!(e.kind(), "storage_not_found");
    assert_eq!(e.message(Lang::En), "conversation 12345 does not exist (it may have been deleted)");
    assert_eq!(e.message(Lang::Zh), "对话 12345 不存在（可能已被删除）");
    assert_eq!(store.switch_to(999).unwrap_err().kind(), "storage_not_found");
    assert_eq!(store.rename_conversation(999, "x").unwrap_err().kind(), "storage_not_found");
    let c = store.create_conversation("").unwrap();
    let other = store.create_conversation("").unwrap();
    let m = store.append(other.id, NewMessage::user("elsewhere")).unwrap();
    // A parent from another conversation is refused.
    assert_eq!(store.add_message(c.id, Some(m.id), NewMessage::user("x")).unwrap_err().kind(), "storage_not_found");
    let renamed = store.rename_conversation(c.id, "  Named  ").unwrap();
    assert_eq!(renamed.title, "Named");
    // A user message does not replace a title the user gave.
    store.append(c.id, NewMessage::user("hello")).unwrap();
    assert_eq!(store.conversation(c.id).unwrap().title, "Named");
}
