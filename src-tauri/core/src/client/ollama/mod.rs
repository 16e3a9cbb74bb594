//! The Ollama client over its native API (`/api/...`): the client itself, its errors and the
//! server's status here; streamed chat, the models and their management in files of their own.
//! Every call is made from Rust and carries no `Origin` header, so Ollama's origin check (which
//! rejects webview origins) never applies.

mod chat;
mod management;
mod models;

use crate::client::{failure_message, host, truncate, ClientOptions};
use crate::error::{Error, Result};
use crate::models::ModelInfo;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;

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
    /// `/api/show` answers by model digest (see `models.rs`).
    show_cache: Arc<Mutex<HashMap<String, Value>>>,
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
        Ok(OllamaClient { base, http, opts, show_cache: Arc::default() })
    }

    /// A client for the explicit host (flag or setting), else `OLLAMA_HOST`, else the default.
    pub fn connect(explicit_host: Option<&str>) -> Result<Self> {
        let base = host::resolve_host(explicit_host).map_err(|e| Error::Usage(format!("bad Ollama host: {e}")))?;
        OllamaClient::new(base, ClientOptions::from_env())
    }

    /// The host as shown to people.
    pub fn host(&self) -> String {
        host::display(&self.base)
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("relative API paths join")
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        crate::client::unreachable(self.host(), e)
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
        let from_json = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str().map(str::to_string)));
        let message = failure_message(status, &body, from_json);
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

    /// Everything the status bar needs in one call.
    pub async fn status(&self) -> Result<ServerStatus> {
        let version = self.version().await?;
        let models = self.list_models().await?;
        Ok(ServerStatus { host: self.host(), version, models })
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
        // Sent a truthy `think` (the app checks capabilities first; a stale list or a hand-typed name gets here).
        400 if lower.contains("does not support thinking") => {
            Error::ModelUnable { model: model.unwrap_or_default().to_string(), what: "think".into() }
        }
        _ if lower.contains("missing data required for image input") => {
            Error::ModelUnable { model: model.unwrap_or_default().to_string(), what: "see images".into() }
        }
        _ => Error::Server { status, message },
    }
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
