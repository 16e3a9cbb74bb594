//! The Ollama client: status, models, streamed chat. Every call is made from Rust and carries no
//! `Origin` header, so Ollama's origin check (which rejects webview origins) never applies.

use crate::chat::{ChatOutcome, ChatRequest, Message};
use crate::client::host;
use crate::client::ndjson::{truncate, NdjsonReader};
use crate::error::{Error, Result};
use crate::models::{same_model, ModelDetails, ModelInfo};
use crate::pull::{PullLine, PullOutcome, PullPhase, PullProgress, PullTracker};
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

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

/// What the status bar shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerStatus {
    pub host: String,
    pub version: String,
    pub models: Vec<ModelInfo>,
}

#[derive(Clone)]
pub struct OllamaClient {
    base: Url,
    http: reqwest::Client,
    opts: ClientOptions,
}

impl OllamaClient {
    pub fn new(base: Url, opts: ClientOptions) -> Result<Self> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .user_agent(concat!("gemma-desk/", env!("CARGO_PKG_VERSION")));
        // A system proxy must not intercept a local Ollama (a common cause of "Ollama not found").
        if host::is_loopback(&base) {
            b = b.no_proxy();
        }
        let http = b.build().map_err(|e| Error::Other(format!("cannot set up HTTP: {e}")))?;
        Ok(OllamaClient { base, http, opts })
    }

    /// The host as shown to people.
    pub fn host(&self) -> String {
        host::display(&self.base)
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("relative API paths join")
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        Error::unreachable(self.host(), e)
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T> {
        let resp = self
            .http
            .get(self.url(path))
            .timeout(self.opts.request_timeout)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        self.json_body(resp, None).await
    }

    async fn post_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &Value,
        model: Option<&str>,
    ) -> Result<T> {
        let resp = self
            .http
            .post(self.url(path))
            .timeout(self.opts.request_timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        self.json_body(resp, model).await
    }

    async fn json_body<T: for<'de> Deserialize<'de>>(&self, resp: reqwest::Response, model: Option<&str>) -> Result<T> {
        let resp = self.check_status(resp, model).await?;
        let text = resp.text().await.map_err(|_| Error::ConnectionCut)?;
        serde_json::from_str(&text)
            .map_err(|e| Error::NotOllama { host: self.host(), detail: format!("{e}: {}", truncate(&text, 120)) })
    }

    /// Turn a non-2xx answer into the matching error, reading Ollama's `{"error": …}` body.
    async fn check_status(&self, resp: reqwest::Response, model: Option<&str>) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str().map(str::to_string)))
            .unwrap_or_else(|| {
                let t = body.trim();
                if t.is_empty() {
                    status.canonical_reason().unwrap_or("error").to_string()
                } else {
                    truncate(t, 200)
                }
            });
        Err(classify(status.as_u16(), message, model, &self.host()))
    }

    /// `GET /api/version`; also proves that the server is Ollama.
    pub async fn version(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct V {
            version: String,
        }
        let v: V = self.get_json("api/version").await?;
        Ok(v.version)
    }

    /// Installed models with their capabilities: `/api/tags`, then `/api/show` for each, together.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>> {
        let tags: Tags = self.get_json("api/tags").await?;
        let shows = join_all(tags.models.iter().map(|t| self.show(&t.name))).await;
        Ok(tags.models.into_iter().zip(shows).map(|(tag, show)| model_info(tag, show.ok())).collect())
    }

    /// `POST /api/show` for one model.
    pub async fn show(&self, model: &str) -> Result<Value> {
        self.post_json("api/show", &json!({ "model": model }), Some(model)).await
    }

    /// The side of the square the model's vision encoder sees (`*.vision.image_size`), if it has one.
    pub async fn vision_image_size(&self, model: &str) -> Option<u32> {
        let show = self.show(model).await.ok()?;
        model_info(Tag { name: model.to_string(), size: 0, details: TagDetails::default() }, Some(show))
            .vision_image_size
    }

    /// Everything the status bar needs in one call.
    pub async fn status(&self) -> Result<ServerStatus> {
        let version = self.version().await?;
        let models = self.list_models().await?;
        Ok(ServerStatus { host: self.host(), version, models })
    }

    /// Streamed chat over `/api/chat`. `on_delta` gets each piece of text as it arrives; the
    /// whole answer comes back at the end. Dropping the future closes the connection, which is
    /// how Ollama learns to stop generating.
    pub async fn chat(&self, req: &ChatRequest, mut on_delta: impl FnMut(&str)) -> Result<ChatOutcome> {
        let body = chat_body(req);
        let resp = self.http.post(self.url("api/chat")).json(&body).send().await.map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, Some(&req.model)).await?;
        let mut lines = NdjsonReader::new(resp, self.opts.first_byte_timeout, self.opts.idle_timeout);
        let mut out = ChatOutcome { model: req.model.clone(), ..Default::default() };
        while let Some(line) = lines.next().await? {
            let chunk: ChatChunk =
                serde_json::from_value(line).map_err(|e| Error::Protocol { detail: e.to_string() })?;
            if let Some(message) = chunk.error {
                return Err(classify_stream_error(message, &req.model));
            }
            if let Some(m) = chunk.message {
                if !m.content.is_empty() {
                    on_delta(&m.content);
                    out.content.push_str(&m.content);
                }
                out.tool_calls.extend(m.tool_calls);
            }
            if chunk.done {
                out.done_reason = chunk.done_reason;
                out.prompt_tokens = chunk.prompt_eval_count;
                out.completion_tokens = chunk.eval_count;
                out.total_duration_ms = chunk.total_duration.map(|ns| ns / 1_000_000);
                out.tokens_per_second = match (chunk.eval_count, chunk.eval_duration) {
                    (Some(n), Some(ns)) if ns > 0 => Some(n as f64 / (ns as f64 / 1e9)),
                    _ => None,
                };
                return Ok(out);
            }
        }
        // The body ended cleanly but without `done: true`: the answer is incomplete.
        Err(Error::ConnectionCut)
    }
}

/// Map an HTTP error from Ollama to what it means for the user.
fn classify(status: u16, message: String, model: Option<&str>, host: &str) -> Error {
    let lower = message.to_ascii_lowercase();
    match status {
        // A 404 with Go's plain-text body: something at that address, but no Ollama API. Checked
        // first: "404 page not found" also contains "not found".
        404 if lower.contains("page not found") || model.is_none() => {
            Error::NotOllama { host: host.to_string(), detail: message }
        }
        404 if lower.contains("not found") => Error::ModelNotFound { model: model.unwrap_or_default().to_string() },
        403 => Error::NotOllama {
            host: host.to_string(),
            detail: format!("access refused (403 {message}); check OLLAMA_ORIGINS or a proxy in between"),
        },
        503 => Error::Busy { message },
        _ if lower.contains("missing data required for image input") => {
            Error::ModelUnable { model: model.unwrap_or_default().to_string(), what: "see images".into() }
        }
        _ => Error::Server { status, message },
    }
}

fn classify_stream_error(message: String, model: &str) -> Error {
    if message.contains("missing data required for image input") {
        Error::ModelUnable { model: model.to_string(), what: "see images".into() }
    } else {
        Error::Stream { message }
    }
}

fn chat_body(req: &ChatRequest) -> Value {
    let mut body = json!({
        "model": req.model,
        "messages": req.messages.iter().map(message_json).collect::<Vec<_>>(),
        "stream": true,
    });
    if !req.options.is_empty() {
        body["options"] = serde_json::to_value(&req.options).unwrap_or(Value::Null);
    }
    if let Some(k) = &req.keep_alive {
        body["keep_alive"] = json!(k);
    }
    if !req.tools.is_empty() {
        body["tools"] = json!(req.tools);
    }
    body
}

fn message_json(m: &Message) -> Value {
    serde_json::to_value(m).expect("messages serialise")
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    details: TagDetails,
}

#[derive(Deserialize, Default)]
struct TagDetails {
    family: Option<String>,
    parameter_size: Option<String>,
    quantization_level: Option<String>,
}

#[derive(Deserialize)]
struct ChatChunk {
    #[serde(default)]
    message: Option<ChunkMessage>,
    #[serde(default)]
    done: bool,
    done_reason: Option<String>,
    error: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    eval_duration: Option<u64>,
    total_duration: Option<u64>,
}

#[derive(Deserialize)]
struct ChunkMessage {
    #[serde(default)]
    content: String,
    /// Ollama streams native tool calls in a message of their own, before the `done` line.
    #[serde(default)]
    tool_calls: Vec<crate::chat::ToolCall>,
}

/// Merge `/api/tags` and `/api/show`. Servers older than 0.6.4 report no capabilities: then a
/// model is assumed to chat, and to see if its `model_info` has a vision tower.
fn model_info(tag: Tag, show: Option<Value>) -> ModelInfo {
    let info = show.as_ref().and_then(|s| s.get("model_info")).and_then(Value::as_object);
    let find_num =
        |suffix: &str| info.and_then(|m| m.iter().find(|(k, _)| k.ends_with(suffix)).and_then(|(_, v)| v.as_u64()));
    let vision_image_size = find_num(".vision.image_size").map(|v| v as u32);
    let context_length = info.and_then(|m| {
        m.iter().find(|(k, _)| k.ends_with(".context_length") && !k.contains(".vision.")).and_then(|(_, v)| v.as_u64())
    });
    let reported: Option<Vec<String>> =
        show.as_ref().and_then(|s| s.get("capabilities")).and_then(|c| serde_json::from_value(c.clone()).ok());
    let capabilities = match reported {
        Some(c) if !c.is_empty() => c,
        _ => {
            let mut c = vec!["completion".to_string()];
            if vision_image_size.is_some() {
                c.push("vision".into());
            }
            c
        }
    };
    ModelInfo {
        name: tag.name,
        size: tag.size,
        family: tag.details.family,
        parameter_size: tag.details.parameter_size,
        quantization: tag.details.quantization_level,
        capabilities,
        context_length,
        vision_image_size,
    }
}

impl OllamaClient {
    /// A client for the explicit host (flag or setting), else `OLLAMA_HOST`, else the default.
    pub fn connect(explicit_host: Option<&str>) -> Result<Self> {
        let base = host::resolve_host(explicit_host).map_err(|e| Error::Usage(format!("bad Ollama host: {e}")))?;
        OllamaClient::new(base, ClientOptions::from_env())
    }

    /// The model to use for a job: the named one, checked to exist and to be able to do every job
    /// in `needs` — before anything is sent — or, when none is named, the best installed fit.
    pub async fn resolve_model(&self, named: Option<&str>, needs: &[crate::models::Capability]) -> Result<String> {
        use crate::models::{pick_model, Capability};
        match named {
            Some(name) => {
                if needs.is_empty() {
                    return Ok(name.to_string());
                }
                let show = self.show(name).await?;
                let info =
                    model_info(Tag { name: name.to_string(), size: 0, details: TagDetails::default() }, Some(show));
                for need in needs {
                    if !info.can(*need) {
                        return Err(Error::ModelUnable { model: name.to_string(), what: need.job().into() });
                    }
                }
                Ok(name.to_string())
            }
            None => {
                let models = self.list_models().await?;
                let job =
                    needs.iter().find(|c| **c != Capability::Completion).copied().unwrap_or(Capability::Completion);
                pick_model(&models, needs)
                    .map(|m| m.name.clone())
                    .ok_or_else(|| Error::NoSuitableModel { what: job.job().into() })
            }
        }
    }
}

// Model management: download, delete, details.

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

    /// Details of one installed model: `/api/show`, and its size on disk from `/api/tags`.
    pub async fn details(&self, model: &str) -> Result<ModelDetails> {
        let (show, tags) = futures_util::future::join(self.show(model), self.get_json::<Tags>("api/tags")).await;
        let show = show?;
        let size = tags.ok().and_then(|t| t.models.into_iter().find(|m| same_model(&m.name, model))).map(|t| t.size);
        Ok(model_details(model, show, size))
    }
}

fn model_details(name: &str, show: Value, size: Option<u64>) -> ModelDetails {
    let details = show.get("details").cloned().unwrap_or(Value::Null);
    let text = |key: &str| details.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let parameter_count = show.get("model_info").and_then(|m| m.get("general.parameter_count")).and_then(Value::as_u64);
    let modified_at = show.get("modified_at").and_then(Value::as_str).map(str::to_string);
    let format = text("format");
    let tag_details = TagDetails {
        family: text("family"),
        parameter_size: text("parameter_size"),
        quantization_level: text("quantization_level"),
    };
    let info = model_info(Tag { name: name.to_string(), size: size.unwrap_or(0), details: tag_details }, Some(show));
    ModelDetails {
        name: info.name,
        family: info.family,
        parameter_size: info.parameter_size,
        parameter_count,
        quantization: info.quantization,
        format,
        context_length: info.context_length,
        capabilities: info.capabilities,
        vision_image_size: info.vision_image_size,
        size,
        modified_at,
    }
}

/// What `/api/show` says about `name`, for an Ollama reached through its OpenAI-compatible `/v1`.
pub(crate) fn model_info_from_show(name: &str, show: Value) -> ModelInfo {
    model_info(Tag { name: name.to_string(), size: 0, details: TagDetails::default() }, Some(show))
}

#[cfg(test)]
mod classify_tests {
    use super::*;

    #[test]
    fn a_plain_404_page_is_not_a_missing_model() {
        let e = classify(404, "404 page not found".into(), Some("gemma3:4b"), "http://h");
        assert_eq!(e.kind(), "not_ollama");
        let e = classify(404, "model \"gemma3:4b\" not found, try pulling it first".into(), Some("gemma3:4b"), "h");
        assert_eq!(e, Error::ModelNotFound { model: "gemma3:4b".into() });
    }
}
