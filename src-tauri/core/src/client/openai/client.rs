//! The client: the model list (with what each model can do, asked of Ollama or guessed), choosing
//! a model, streamed chat, and the errors these servers send, in any of their shapes.

use super::wire::{chat_body, Chunk, ToolCallDelta, ToolCallParts};
use crate::chat::{text_only, ChatOutcome, ChatRequest, Piece};
use crate::client::sse::SseReader;
use crate::client::{failure_message, host, truncate, ClientOptions};
use crate::error::{Error, Result};
use crate::models::{self, guessed_info, Capability, ModelInfo};
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// Model name → capabilities (`completion`, `vision`, `tools`) that the user set for a server.
pub type CapabilityOverrides = BTreeMap<String, Vec<String>>;

#[derive(Clone)]
pub struct OpenAiClient {
    /// The API's base, ending in `/` (e.g. `http://h:8000/v1/`): `models` and `chat/completions` join onto it.
    base: Url,
    http: reqwest::Client,
    opts: ClientOptions,
    overrides: CapabilityOverrides,
    /// Ollama's version when the server turned out to be Ollama (asked once, on first need).
    ollama: Arc<tokio::sync::OnceCell<Option<String>>>,
}

/// The API base for what a user typed: parsed like an Ollama host (no scheme → http, a bare host gets
/// port 11434), and a URL without a path gets `/v1`, where every OpenAI-compatible server has its API.
pub fn base_url(raw: &str) -> std::result::Result<Url, String> {
    let mut url = host::parse_host(raw)?;
    if url.path() == "/" {
        url.set_path("/v1/");
    }
    Ok(url)
}

impl OpenAiClient {
    /// A client for `base` (see [`base_url`]). A blank `api_key` counts as none.
    pub fn new(base: Url, api_key: Option<&str>, opts: ClientOptions) -> Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key.map(str::trim).filter(|k| !k.is_empty()) {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| Error::Usage("the API key contains characters that cannot be sent in a header".into()))?;
            value.set_sensitive(true); // kept out of debug output
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut b = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .default_headers(headers)
            .user_agent(concat!("gemma-desk/", env!("CARGO_PKG_VERSION")));
        if host::is_loopback(&base) {
            b = b.no_proxy(); // a system proxy must not intercept a local server
        }
        let http = b.build().map_err(|e| Error::Other(format!("cannot set up HTTP: {e}")))?;
        Ok(OpenAiClient { base, http, opts, overrides: BTreeMap::new(), ollama: Arc::default() })
    }

    /// A client for what the user typed (`--host`, a setting), with the usual deadlines.
    pub fn connect(raw_host: &str, api_key: Option<&str>) -> Result<Self> {
        let base = base_url(raw_host).map_err(|e| Error::Usage(format!("bad server address: {e}")))?;
        OpenAiClient::new(base, api_key, ClientOptions::from_env())
    }

    /// Capabilities the user set, which win over what is reported or guessed.
    pub fn with_capability_overrides(mut self, overrides: CapabilityOverrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// The base URL as shown to people.
    pub fn host(&self) -> String {
        host::display(&self.base)
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("relative API paths join")
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        crate::client::unreachable(self.host(), e)
    }

    fn not_openai(&self, detail: String) -> Error {
        Error::NotOllama { host: self.host(), detail }
    }

    /// Turn a non-2xx answer into the matching error, reading the message from any of the error
    /// bodies these servers send.
    async fn check_status(&self, resp: reqwest::Response, model: Option<&str>) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.text().await.unwrap_or_default();
        let message = failure_message(status, &body, error_message(&body));
        Err(classify(status.as_u16(), message, model, &self.host()))
    }

    /// `GET models`: the ids the server serves, in its order.
    pub async fn model_ids(&self) -> Result<Vec<String>> {
        let resp = self
            .http
            .get(self.url("models"))
            .timeout(self.opts.request_timeout)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, None).await?;
        let text = resp.text().await.map_err(|_| Error::ConnectionCut)?;
        #[derive(Deserialize)]
        struct List {
            // Ollama sends `null` for no models.
            data: Option<Vec<Entry>>,
        }
        #[derive(Deserialize)]
        struct Entry {
            id: String,
        }
        let list: List =
            serde_json::from_str(&text).map_err(|e| self.not_openai(format!("{e}: {}", truncate(&text, 120))))?;
        Ok(list.data.unwrap_or_default().into_iter().map(|m| m.id).collect())
    }

    /// The root of the host (the base without its `v1/`), where Ollama's native API would be.
    fn ollama_root(&self) -> Option<Url> {
        let path = self.base.path();
        let root = path.strip_suffix("v1/")?;
        let mut u = self.base.clone();
        u.set_path(root);
        Some(u)
    }

    /// Ollama's version if the server is Ollama (its `/api/version` answers on the same host).
    /// Asked once per client; any failure means "not Ollama".
    pub async fn ollama_version(&self) -> Option<String> {
        self.ollama
            .get_or_init(|| async {
                let url = self.ollama_root()?.join("api/version").ok()?;
                let resp = self.http.get(url).timeout(self.opts.request_timeout).send().await.ok()?;
                if !resp.status().is_success() {
                    return None;
                }
                let v: Value = resp.json().await.ok()?;
                v.get("version").and_then(Value::as_str).map(str::to_string)
            })
            .await
            .clone()
    }

    /// Ollama's `/api/show` for a model, when the server is Ollama.
    async fn ollama_show(&self, model: &str) -> Result<Option<Value>> {
        if self.ollama_version().await.is_none() {
            return Ok(None);
        }
        let url = self.ollama_root().and_then(|r| r.join("api/show").ok()).expect("checked by ollama_version");
        let resp = self
            .http
            .post(url)
            .timeout(self.opts.request_timeout)
            .json(&json!({ "model": model }))
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, Some(model)).await?;
        Ok(resp.json().await.ok())
    }

    /// Whether the capabilities of [`list_models`](Self::list_models) were reported by the server
    /// (it is Ollama) rather than guessed from model names.
    pub async fn capabilities_reported(&self) -> bool {
        self.ollama_version().await.is_some()
    }

    /// What is known about one model: from Ollama's `/api/show` when the server is Ollama, else
    /// guessed from its name; the user's overrides win either way.
    pub async fn model_info(&self, model: &str) -> Result<ModelInfo> {
        let mut info = match self.ollama_show(model).await? {
            Some(show) => ModelInfo::named(model).with_show(Some(&show)),
            None => guessed_info(model),
        };
        if let Some(caps) = self.overrides.get(model) {
            info.capabilities = caps.clone();
            info = info.with_derived();
        }
        Ok(info)
    }

    /// The served models with what each can do (see [`model_info`](Self::model_info)).
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>> {
        let ids = self.model_ids().await?;
        let infos = join_all(ids.iter().map(|id| self.model_info(id))).await;
        // A model whose details cannot be had is still listed, with guessed capabilities.
        Ok(ids.iter().zip(infos).map(|(id, info)| info.unwrap_or_else(|_| guessed_info(id))).collect())
    }

    /// The model to use for a job: the named one, or the best fit among the served models.
    /// A named model is checked before anything is sent only where its capabilities are known
    /// (reported by Ollama, or set by the user); a guess never blocks: the server has the last word.
    pub async fn resolve_model(&self, named: Option<&str>, needs: &[Capability]) -> Result<String> {
        let known = async |name: &str| -> Result<Option<ModelInfo>> {
            let known = self.overrides.contains_key(name) || self.capabilities_reported().await;
            Ok(if known { Some(self.model_info(name).await?) } else { None })
        };
        models::resolve_model(named, needs, known, async || self.list_models().await).await
    }

    /// Streamed chat over `chat/completions`, the answer's text only: see [`chat_stream`](Self::chat_stream).
    pub async fn chat(&self, req: &ChatRequest, on_delta: impl FnMut(&str)) -> Result<ChatOutcome> {
        self.chat_stream(req, text_only(on_delta)).await
    }

    /// Streamed chat over `chat/completions`. `on_piece` gets each piece of reasoning (`delta.reasoning`, as
    /// Ollama and vLLM send it, or `delta.reasoning_content`, as llama.cpp and DeepSeek do) and of text as it
    /// arrives; the whole answer comes back at the end. Dropping the future closes the connection, which is how
    /// the server learns to stop generating.
    pub async fn chat_stream(&self, req: &ChatRequest, mut on_piece: impl FnMut(Piece<'_>)) -> Result<ChatOutcome> {
        let started = Instant::now();
        let body = chat_body(req);
        // Some servers send no headers until the first token: a model loading counts as silence too.
        let wait = self.opts.first_byte_timeout;
        let sent = self.http.post(self.url("chat/completions")).json(&body).send();
        let resp = tokio::time::timeout(wait, sent)
            .await
            .map_err(|_| Error::Stalled { secs: wait.as_secs().max(1) })?
            .map_err(|e| self.unreachable(&e))?;
        let resp = self.check_status(resp, Some(&req.model)).await?;
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if is_json {
            // A server (or proxy) that ignores `stream: true` answers with one completion.
            return self.whole_completion(resp, req, &mut on_piece, started).await;
        }

        let mut events = SseReader::new(resp, self.opts.first_byte_timeout, self.opts.idle_timeout);
        let mut out = ChatOutcome { model: req.model.clone(), ..Default::default() };
        let mut calls = ToolCallParts::default();
        let mut first_token: Option<Instant> = None;
        let mut server_rate: Option<f64> = None;
        let mut finished = false;
        while let Some(v) = events.next().await? {
            // An error after the stream started comes as an event of its own (OpenAI's convention).
            if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                let message = message_of(err).unwrap_or_else(|| truncate(&err.to_string(), 200));
                return Err(classify_stream_error(message, &req.model));
            }
            let chunk: Chunk = serde_json::from_value(v).map_err(|e| Error::Protocol { detail: e.to_string() })?;
            if let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) {
                // One chunk may hold both (Ollama splits them; other servers need not): thinking comes first.
                if let Some(text) = choice.delta.reasoning().filter(|t| !t.is_empty()) {
                    first_token.get_or_insert_with(Instant::now);
                    on_piece(Piece::Thinking(text));
                    out.thinking.push_str(text);
                }
                if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                    first_token.get_or_insert_with(Instant::now);
                    on_piece(Piece::Text(&text));
                    out.content.push_str(&text);
                }
                for part in choice.delta.tool_calls {
                    calls.add(part);
                }
                if let Some(reason) = choice.finish_reason {
                    out.done_reason = Some(reason);
                    finished = true;
                }
            }
            if let Some(u) = chunk.usage {
                out.prompt_tokens = u.prompt_tokens.or(out.prompt_tokens);
                out.completion_tokens = u.completion_tokens.or(out.completion_tokens);
            }
            // llama.cpp's server reports its own speed.
            if let Some(rate) = chunk.timings.and_then(|t| t.predicted_per_second) {
                server_rate = Some(rate);
            }
        }
        // A stream that ends with neither `[DONE]` nor a finish reason was cut short.
        if !events.saw_done() && !finished {
            return Err(Error::ConnectionCut);
        }
        out.tool_calls = calls.finish();
        out.total_duration_ms = Some(started.elapsed().as_millis() as u64);
        out.tokens_per_second = server_rate.or_else(|| rate(out.completion_tokens, first_token));
        Ok(out)
    }

    async fn whole_completion(
        &self,
        resp: reqwest::Response,
        req: &ChatRequest,
        on_piece: &mut impl FnMut(Piece<'_>),
        started: Instant,
    ) -> Result<ChatOutcome> {
        let text = resp.text().await.map_err(|_| Error::ConnectionCut)?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Protocol { detail: format!("{e}: {}", truncate(&text, 120)) })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            return Err(classify_stream_error(message_of(err).unwrap_or_default(), &req.model));
        }
        let choice = v.pointer("/choices/0").ok_or_else(|| Error::Protocol { detail: "no choices".into() })?;
        let mut out = ChatOutcome { model: req.model.clone(), ..Default::default() };
        let text = |key: &str| choice.pointer(key).and_then(Value::as_str).unwrap_or_default().to_string();
        out.thinking = Some(text("/message/reasoning"))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| text("/message/reasoning_content"));
        if !out.thinking.is_empty() {
            on_piece(Piece::Thinking(&out.thinking));
        }
        out.content = text("/message/content");
        if !out.content.is_empty() {
            on_piece(Piece::Text(&out.content));
        }
        let mut calls = ToolCallParts::default();
        let parts: Vec<ToolCallDelta> = choice
            .pointer("/message/tool_calls")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
            .unwrap_or_default();
        for (i, mut part) in parts.into_iter().enumerate() {
            part.index = Some(i as u64);
            calls.add(part);
        }
        out.tool_calls = calls.finish();
        out.done_reason = choice.get("finish_reason").and_then(Value::as_str).map(str::to_string);
        out.prompt_tokens = v.pointer("/usage/prompt_tokens").and_then(Value::as_u64);
        out.completion_tokens = v.pointer("/usage/completion_tokens").and_then(Value::as_u64);
        out.total_duration_ms = Some(started.elapsed().as_millis() as u64);
        Ok(out)
    }
}

/// Tokens per second from the first token to now.
fn rate(tokens: Option<u64>, first: Option<Instant>) -> Option<f64> {
    let (n, first) = (tokens?, first?);
    let secs = first.elapsed().as_secs_f64();
    (n > 1 && secs > 0.0).then(|| (n - 1) as f64 / secs)
}

/// The message in an error body: OpenAI's `{"error":{"message":…}}`, Ollama's `{"error":"…"}`,
/// FastAPI's `{"detail":…}` (llama-cpp-python, vLLM's validation errors) or a bare `{"message":…}`.
fn error_message(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    for key in ["error", "detail", "message"] {
        if let Some(m) = v.get(key).and_then(message_of) {
            return Some(m);
        }
    }
    None
}

fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Object(o) => o.get("message").or_else(|| o.get("msg")).and_then(message_of),
        // FastAPI's validation errors: a list of {loc, msg, type}.
        Value::Array(items) => {
            let msgs: Vec<String> = items.iter().filter_map(message_of).collect();
            (!msgs.is_empty()).then(|| msgs.join("; "))
        }
        _ => None,
    }
}

/// Map an HTTP error to what it means for the user.
fn classify(status: u16, message: String, model: Option<&str>, host: &str) -> Error {
    let lower = message.to_ascii_lowercase();
    match (status, model) {
        // The endpoint exists; a 404 naming a model is about the model (Ollama: `model "x" not found`,
        // vLLM: "The model `x` does not exist.").
        (404, Some(m)) if lower.contains("model") || lower.contains(&m.to_ascii_lowercase()) => {
            Error::ModelNotFound { model: m.to_string() }
        }
        // Anything else at 404 means the address is not the API (e.g. a base URL without /v1).
        (404, _) => Error::NotOllama { host: host.to_string(), detail: format!("{status} {message}") },
        (429 | 503, _) => Error::Busy { message },
        (_, Some(m)) if refuses_images(&lower) => {
            Error::ModelUnable { model: m.to_string(), what: "see images".into() }
        }
        _ => Error::Server { status, message },
    }
}

/// What servers say when a model cannot take images (Ollama, llama.cpp without a projector, vLLM).
fn refuses_images(lower: &str) -> bool {
    [
        "missing data required for image input",
        "image input is not supported",
        "does not support image",
        "not a multimodal model",
        "multimodal is not supported",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

fn classify_stream_error(message: String, model: &str) -> Error {
    if refuses_images(&message.to_ascii_lowercase()) {
        Error::ModelUnable { model: model.to_string(), what: "see images".into() }
    } else {
        Error::Stream { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(base_url("http://h:8000").unwrap().as_str(), "http://h:8000/v1/");
        assert_eq!(base_url("h:8000/v1").unwrap().as_str(), "http://h:8000/v1/");
        assert_eq!(base_url("https://x.io/api/v1/").unwrap().as_str(), "https://x.io/api/v1/");
        assert!(base_url("ftp://h").is_err());
    }

    #[test]
    fn error_bodies_in_every_shape() {
        assert_eq!(error_message(r#"{"error":{"message":"bad key","type":"x"}}"#).unwrap(), "bad key");
        assert_eq!(error_message(r#"{"error":"model \"x\" not found"}"#).unwrap(), "model \"x\" not found");
        assert_eq!(error_message(r#"{"detail":"Not Found"}"#).unwrap(), "Not Found");
        assert_eq!(
            error_message(r#"{"detail":[{"msg":"field required"},{"msg":"bad"}]}"#).unwrap(),
            "field required; bad"
        );
        assert_eq!(error_message("plain text"), None);
    }

    #[test]
    fn classification() {
        assert!(matches!(classify(404, "model \"m\" not found".into(), Some("m"), "h"), Error::ModelNotFound { .. }));
        assert!(matches!(classify(404, "404 page not found".into(), Some("m"), "h"), Error::NotOllama { .. }));
        assert!(matches!(classify(404, "Not Found".into(), None, "h"), Error::NotOllama { .. }));
        assert!(matches!(classify(503, "busy".into(), Some("m"), "h"), Error::Busy { .. }));
        assert!(matches!(
            classify(500, "image input is not supported - hint: …mmproj".into(), Some("m"), "h"),
            Error::ModelUnable { .. }
        ));
        assert!(matches!(
            classify(401, "Incorrect API key provided".into(), None, "h"),
            Error::Server { status: 401, .. }
        ));
    }
}
