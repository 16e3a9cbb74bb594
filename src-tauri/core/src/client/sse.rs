//! Server-Sent Events over an HTTP body, as OpenAI-compatible servers stream `chat/completions`:
//! each `data:` event holds one JSON object, and `data: [DONE]` ends the stream. Read like the
//! NDJSON of Ollama's API, through the same bounded silences, so both clients stall and cut alike.

use crate::client::{body_with_deadlines, truncate};
use crate::error::{Error, Result};
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// Reads one event at a time from a response, applying a deadline to the wait for each piece.
pub struct SseReader {
    events: BoxStream<'static, std::result::Result<Event, EventStreamError<Error>>>,
    done: bool,
}

impl SseReader {
    pub fn new(resp: reqwest::Response, first_timeout: Duration, idle_timeout: Duration) -> Self {
        SseReader { events: body_with_deadlines(resp, first_timeout, idle_timeout).eventsource().boxed(), done: false }
    }

    /// The next event's object, `Ok(None)` at `[DONE]` or at the end of the body ([`saw_done`]
    /// tells which). A body cut by the network is `ConnectionCut`; silence longer than the deadline
    /// is `Stalled`.
    ///
    /// [`saw_done`]: Self::saw_done
    pub async fn next(&mut self) -> Result<Option<Value>> {
        if self.done {
            return Ok(None);
        }
        while let Some(event) = self.events.next().await {
            let event = event.map_err(|e| match e {
                EventStreamError::Transport(e) => e,
                other => Error::Protocol { detail: other.to_string() },
            })?;
            let data = event.data.trim();
            if data == "[DONE]" {
                self.done = true;
                return Ok(None);
            }
            if data.is_empty() {
                continue;
            }
            return serde_json::from_str(data).map(Some).map_err(|e| Error::Protocol {
                detail: format!("an event is not JSON ({e}): {}", truncate(data, 120)),
            });
        }
        Ok(None)
    }

    /// Whether the stream ended with `[DONE]`, as a complete one does.
    pub fn saw_done(&self) -> bool {
        self.done
    }
}
