//! Saving an answer while it streams, in batches.

use super::messages::{self, MessageStatus, NewMessage, StoredMessage};
use super::{conversations, now_ms, ConversationId, MessageId, Store};
use crate::chat::Role;
use crate::error::{Error, Result};
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The longest a [`StreamWriter`] keeps text unwritten while deltas keep arriving.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// Writes a streamed answer into its message as it grows. Caller-driven: [`push`](Self::push) writes when
/// [`FLUSH_INTERVAL`] has passed since the last write; if deltas may pause for long, call
/// [`flush_if_due`](Self::flush_if_due) on a timer too. End with [`finish`](Self::finish),
/// [`fail`](Self::fail) or [`interrupt`](Self::interrupt); a writer dropped without one of them writes what it has
/// and marks the answer `incomplete`. If the process dies, the last write survives and the next
/// [`Store::open`] marks it `incomplete`.
pub struct StreamWriter {
    store: Store,
    id: MessageId,
    conversation: ConversationId,
    content: String,
    /// Where the text since the last [`retract`](Self::retract) starts.
    mark: usize,
    /// The model's thinking so far, saved beside the answer with the same batching.
    thinking: String,
    steps: Vec<Value>,
    dirty: bool,
    last_write: Instant,
    interval: Duration,
    ended: bool,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter").field("id", &self.id).field("chars", &self.content.len()).finish()
    }
}

impl Store {
    /// Starts an answer to `parent` (usually the user's message just saved): an empty assistant message with
    /// status `streaming`, made the head. If `parent` already has answers, this one becomes a new version.
    pub fn start_answer(&self, parent: MessageId, model: &str) -> Result<StreamWriter> {
        let (id, conversation) = self.write(|tx| {
            let conversation: ConversationId = tx
                .query_row("SELECT conversation_id FROM messages WHERE id = ?1", [parent], |r| r.get(0))
                .optional()?
                .ok_or_else(|| Error::StorageNotFound { what: format!("message {parent}") })?;
            let msg = NewMessage {
                status: MessageStatus::Streaming,
                model: Some(model.to_string()),
                ..NewMessage::new(Role::Assistant, "")
            };
            Ok((messages::add(tx, conversation, Some(parent), &msg)?, conversation))
        })?;
        Ok(StreamWriter {
            store: self.clone(),
            id,
            conversation,
            content: String::new(),
            mark: 0,
            thinking: String::new(),
            steps: Vec::new(),
            dirty: false,
            last_write: Instant::now(),
            interval: FLUSH_INTERVAL,
            ended: false,
        })
    }

    /// Regenerate: a new answer to the message `answer` answered; `answer` stays as another version.
    pub fn regenerate(&self, answer: MessageId, model: &str) -> Result<StreamWriter> {
        let parent = self.message(answer)?.parent_id.ok_or_else(|| Error::Storage {
            detail: format!("message {answer} answers nothing, so it cannot be regenerated"),
        })?;
        self.start_answer(parent, model)
    }
}

impl StreamWriter {
    pub fn id(&self) -> MessageId {
        self.id
    }

    pub fn conversation_id(&self) -> ConversationId {
        self.conversation
    }

    /// The text so far (written or not).
    pub fn content(&self) -> &str {
        &self.content
    }

    /// Writes at most this often instead of every [`FLUSH_INTERVAL`].
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Adds text; writes if the interval has passed. Returns whether it wrote.
    pub fn push(&mut self, delta: &str) -> Result<bool> {
        if delta.is_empty() {
            return Ok(false);
        }
        self.content.push_str(delta);
        self.dirty = true;
        self.flush_if_due()
    }

    /// Adds thinking; writes if the interval has passed. Returns whether it wrote.
    pub fn push_thinking(&mut self, delta: &str) -> Result<bool> {
        if delta.is_empty() {
            return Ok(false);
        }
        self.thinking.push_str(delta);
        self.dirty = true;
        self.flush_if_due()
    }

    /// The thinking so far (written or not).
    pub fn thinking(&self) -> &str {
        &self.thinking
    }

    /// Takes back the text since the last retract (or the start): the agent's `Retract` event.
    pub fn retract(&mut self) {
        if self.content.len() > self.mark {
            self.content.truncate(self.mark);
            self.dirty = true;
        }
        self.mark = self.content.len();
    }

    /// Records an agent step (e.g. a serialised `agent::Step`) in the message's trace, and writes at once: steps
    /// are few and each cost a model round.
    pub fn push_step(&mut self, step: Value) -> Result<()> {
        self.steps.push(step);
        self.dirty = true;
        self.flush()
    }

    /// Writes if there is unwritten text and the interval has passed. Returns whether it wrote.
    pub fn flush_if_due(&mut self) -> Result<bool> {
        if self.dirty && self.last_write.elapsed() >= self.interval {
            self.flush()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Writes what there is now.
    pub fn flush(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.write(MessageStatus::Streaming, None, None)?;
        self.dirty = false;
        self.last_write = Instant::now();
        Ok(())
    }

    /// The answer is complete. `stats`: generation statistics to keep with it.
    pub fn finish(mut self, stats: Option<Value>) -> Result<StoredMessage> {
        self.end(MessageStatus::Complete, None, stats)
    }

    /// The model failed: keep what arrived, with the error's text.
    pub fn fail(mut self, error: &str) -> Result<StoredMessage> {
        self.end(MessageStatus::Error, Some(error), None)
    }

    /// Stopped before the end (the user pressed Stop): keep what arrived, marked `incomplete`.
    pub fn interrupt(mut self) -> Result<StoredMessage> {
        self.end(MessageStatus::Incomplete, None, None)
    }

    fn end(&mut self, status: MessageStatus, error: Option<&str>, stats: Option<Value>) -> Result<StoredMessage> {
        self.ended = true;
        self.write(status, error, stats.as_ref())?;
        self.store.message(self.id)
    }

    fn write(&self, status: MessageStatus, error: Option<&str>, stats: Option<&Value>) -> Result<()> {
        let trace = (!self.steps.is_empty()).then(|| Value::Array(self.steps.clone()).to_string());
        let final_write = status != MessageStatus::Streaming;
        self.store.write(|tx| {
            let now = now_ms();
            // Setting `streaming` again matters: another process opening the file meanwhile marked it incomplete.
            let changed = tx
                .prepare_cached(
                    "UPDATE messages SET content = ?2, trace = ?3, status = ?4, error = ?5,
                        stats = CASE WHEN ?6 THEN ?7 ELSE stats END, updated_at = ?8, thinking = ?9
                     WHERE id = ?1",
                )?
                .execute(params![
                    self.id,
                    self.content,
                    trace,
                    status.as_str(),
                    error,
                    final_write,
                    stats.map(Value::to_string),
                    now,
                    (!self.thinking.is_empty()).then_some(self.thinking.as_str()),
                ])?;
            if changed == 0 {
                // The conversation was deleted meanwhile.
                return Err(Error::StorageNotFound { what: format!("message {}", self.id) });
            }
            conversations::touch(tx, self.conversation, now)
        })
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.write(MessageStatus::Incomplete, None, None);
        }
    }
}
