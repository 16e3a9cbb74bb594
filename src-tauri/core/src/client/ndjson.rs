//! Newline-delimited JSON over an HTTP body, as Ollama streams `/api/chat`, `/api/generate`
//! and `/api/pull`: one object per line, the last line possibly without a newline.

use crate::client::{body_with_deadlines, truncate};
use crate::error::{Error, Result};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::time::Duration;

/// Reads one line at a time from a response, applying a deadline to the wait for each piece.
pub struct NdjsonReader {
    body: BoxStream<'static, Result<bytes::Bytes>>,
    buf: Vec<u8>,
    ended: bool,
}

impl NdjsonReader {
    pub fn new(resp: reqwest::Response, first_timeout: Duration, idle_timeout: Duration) -> Self {
        NdjsonReader { body: body_with_deadlines(resp, first_timeout, idle_timeout), buf: Vec::new(), ended: false }
    }

    /// The next parsed object, `Ok(None)` at a clean end of the body. A body cut by the
    /// network is `ConnectionCut`; silence longer than the deadline is `Stalled`.
    pub async fn next(&mut self) -> Result<Option<serde_json::Value>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if let Some(v) = parse_line(&line[..line.len() - 1])? {
                    return Ok(Some(v));
                }
                continue;
            }
            if self.ended {
                let rest = std::mem::take(&mut self.buf);
                return parse_line(&rest);
            }
            match self.body.next().await {
                None => self.ended = true,
                Some(chunk) => self.buf.extend_from_slice(&chunk?),
            }
        }
    }
}

fn parse_line(line: &[u8]) -> Result<Option<serde_json::Value>> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| Error::Protocol { detail: format!("a stream line is not JSON ({e}): {}", truncate(text, 120)) })
}
