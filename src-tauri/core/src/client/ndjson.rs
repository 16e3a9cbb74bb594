//! Newline-delimited JSON over an HTTP body, as Ollama streams `/api/chat`, `/api/generate`
//! and `/api/pull`: one object per line, the last line possibly without a newline.

use crate::error::{Error, Result};
use futures_util::StreamExt;
use std::time::Duration;

/// Reads one line at a time from a response, applying a deadline to the wait for each piece.
pub struct NdjsonReader {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: Vec<u8>,
    ended: bool,
    first_timeout: Duration,
    idle_timeout: Duration,
    got_any: bool,
}

impl NdjsonReader {
    pub fn new(resp: reqwest::Response, first_timeout: Duration, idle_timeout: Duration) -> Self {
        NdjsonReader {
            body: resp.bytes_stream().boxed(),
            buf: Vec::new(),
            ended: false,
            first_timeout,
            idle_timeout,
            got_any: false,
        }
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
            let wait = if self.got_any { self.idle_timeout } else { self.first_timeout };
            match tokio::time::timeout(wait, self.body.next()).await {
                Err(_) => return Err(Error::Stalled { secs: wait.as_secs().max(1) }),
                Ok(None) => self.ended = true,
                Ok(Some(Ok(chunk))) => {
                    self.got_any = true;
                    self.buf.extend_from_slice(&chunk);
                }
                Ok(Some(Err(_))) => return Err(Error::ConnectionCut),
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

pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}
