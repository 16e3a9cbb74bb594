//! Model management: downloading (`/api/pull`, with deadlines that follow the download's phase)
//! and deleting.

use super::OllamaClient;
use crate::client::ndjson::NdjsonReader;
use crate::error::{Error, Result};
use crate::pull::{PullLine, PullOutcome, PullPhase, PullProgress, PullTracker};
use serde_json::json;
use std::time::Duration;

/// Silence allowed while Ollama hashes the blobs it fetched ("verifying sha256 digest" sends
/// nothing until done): the usual idle allowance plus time to read them at a slow disk's 25 MB/s.
fn verify_allowance(idle: Duration, bytes: u64) -> Duration {
    idle + Duration::from_secs_f64(bytes as f64 / 25e6)
}

/// An error from a pull, in words that fit a download.
fn pull_error(model: &str, message: String) -> Error {
    let lower = message.to_ascii_lowercase();
    // A registry 404 comes back as os.ErrNotExist: "pull model manifest: file does not exist".
    if lower.contains("file does not exist") || lower.contains("invalid model name") || lower.contains("not found") {
        Error::UnknownModel { model: model.to_string() }
    } else {
        Error::PullFailed { model: model.to_string(), message: Some(message) }
    }
}

impl OllamaClient {
    /// Downloads `model` through `/api/pull`. `on_progress` gets the overall progress after every
    /// line Ollama sends (about 16 a second while bytes flow). Dropping the future closes the
    /// connection, which makes Ollama stop; it keeps what it fetched, so pulling again resumes.
    pub async fn pull(&self, model: &str, mut on_progress: impl FnMut(&PullProgress)) -> Result<PullOutcome> {
        let model = model.trim();
        if model.is_empty() {
            return Err(Error::Usage("no model name given".into()));
        }
        let started = std::time::Instant::now();
        let body = json!({ "model": model, "stream": true });
        let resp = self.http.post(self.url("api/pull")).json(&body).send().await.map_err(|e| self.unreachable(&e))?;
        // No model for check_status: a 404 here means no Ollama API, not a missing model.
        let resp = match self.check_status(resp, None).await {
            Err(Error::Server { message, .. }) => return Err(pull_error(model, message)),
            r => r?,
        };
        // The deadlines depend on the phase, so the reader's own are out of the way.
        let far = Duration::from_secs(7 * 86_400);
        let mut lines = NdjsonReader::new(resp, far, far);
        let mut tracker = PullTracker::new(model);
        let mut first = true;
        loop {
            let wait = match tracker.phase() {
                _ if first => self.opts.first_byte_timeout,
                PullPhase::Verifying => verify_allowance(self.opts.idle_timeout, tracker.total()),
                _ => self.opts.idle_timeout,
            };
            let cut = || Error::PullFailed { model: model.to_string(), message: None };
            let line = match tokio::time::timeout(wait, lines.next()).await {
                Err(_) => return Err(Error::Stalled { secs: wait.as_secs().max(1) }),
                Ok(Err(Error::ConnectionCut)) | Ok(Ok(None)) => return Err(cut()),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Some(v))) => v,
            };
            first = false;
            let line: PullLine = serde_json::from_value(line).map_err(|e| Error::Protocol { detail: e.to_string() })?;
            if let Some(message) = line.error {
                return Err(pull_error(model, message));
            }
            let progress = tracker.update(&line, started.elapsed());
            on_progress(&progress);
            if progress.phase == PullPhase::Done {
                // Read the end of the body, so the connection closes cleanly rather than cut.
                let _ = tokio::time::timeout(Duration::from_secs(1), lines.next()).await;
                return Ok(tracker.outcome());
            }
        }
    }

    /// `DELETE /api/delete`: removes an installed model (`ModelNotFound` if there is none).
    pub async fn delete(&self, model: &str) -> Result<()> {
        let resp = self
            .http
            .delete(self.url("api/delete"))
            .timeout(self.opts.request_timeout)
            .json(&json!({ "model": model }))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        self.check_status(resp, Some(model)).await?;
        Ok(())
    }
}
