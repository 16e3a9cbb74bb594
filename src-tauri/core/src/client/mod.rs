//! Everything that talks to a server, kept apart from what the app does with the answers: finding
//! the server (`host`), the two wire protocols (`ollama`, `openai`), the stream readers they use
//! (`ndjson`, `sse`), and `backend`, which puts either kind behind one API. Nothing outside this
//! folder builds a request or reads a response body.

pub mod backend;
pub mod host;
mod ndjson;
pub mod ollama;
pub mod openai;
mod sse;

use crate::error::{Error, Result};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::time::Duration;

/// Deadlines. Streams have no overall timeout (answers can be long); what is bounded is silence.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Quick calls (version, tags, show).
    pub request_timeout: Duration,
    /// Silence allowed before the first streamed line: loading a large model from disk is slow.
    pub first_byte_timeout: Duration,
    /// Silence allowed between streamed lines once tokens flow.
    pub idle_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            first_byte_timeout: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

impl ClientOptions {
    /// Defaults, with `GEMMA_DESK_STALL_SECS` (if set) bounding every silence: for slow links
    /// that need more patience, and for tests that need less.
    pub fn from_env() -> Self {
        let mut o = ClientOptions::default();
        if let Some(secs) = std::env::var("GEMMA_DESK_STALL_SECS").ok().and_then(|s| s.trim().parse::<f64>().ok()) {
            if secs > 0.0 {
                let d = Duration::from_secs_f64(secs);
                o.first_byte_timeout = d;
                o.idle_timeout = d;
                o.request_timeout = o.request_timeout.min(d.max(Duration::from_secs(1)));
            }
        }
        o
    }
}

/// What a failed response says went wrong: the message the server's JSON gives (`from_json`, each kind of server
/// puts it elsewhere), else the body itself (cut to 200 characters), else the status's name.
pub(crate) fn failure_message(status: reqwest::StatusCode, body: &str, from_json: Option<String>) -> String {
    from_json.unwrap_or_else(|| {
        let t = body.trim();
        if t.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            truncate(t, 200)
        }
    })
}

/// `s` cut to `max` characters, marked with `…` where cut: server replies quoted in errors stay short.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// A request that reached nobody at `host` (refused, timed out, no such name).
fn unreachable(host: String, e: &reqwest::Error) -> Error {
    let detail = if e.is_timeout() {
        "no answer in time".to_string()
    } else if e.is_connect() {
        // reqwest's own text is nested; the innermost cause is what people recognise.
        let mut cur: &(dyn std::error::Error + 'static) = e;
        while let Some(next) = cur.source() {
            cur = next;
        }
        cur.to_string()
    } else {
        e.to_string()
    };
    Error::Unreachable { host, detail }
}

/// A response body as a stream of byte chunks with its silences bounded, the one deadline logic
/// under both stream readers (NDJSON, SSE): `first` until anything arrives (a model may be loading),
/// `idle` between chunks. A longer silence is `Stalled` and a body cut by the network is
/// `ConnectionCut`; either ends the stream. Timing bytes rather than lines or events means SSE
/// comments (keep-alives) count as signs of life.
fn body_with_deadlines(
    resp: reqwest::Response,
    first: Duration,
    idle: Duration,
) -> BoxStream<'static, Result<bytes::Bytes>> {
    let body = resp.bytes_stream().boxed();
    futures_util::stream::unfold((body, false, false), move |(mut body, got_any, failed)| async move {
        if failed {
            return None;
        }
        let wait = if got_any { idle } else { first };
        match tokio::time::timeout(wait, body.next()).await {
            Err(_) => Some((Err(Error::Stalled { secs: wait.as_secs().max(1) }), (body, got_any, true))),
            Ok(None) => None,
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), (body, true, false))),
            Ok(Some(Err(_))) => Some((Err(Error::ConnectionCut), (body, got_any, true))),
        }
    })
    .boxed()
}
