//! The installed models: the list (`/api/tags`, with `/api/show` for what each can do), one
//! model's details, and choosing the model for a job.
//!
//! What a model can do is `/api/tags`' `capabilities` (Ollama 0.30+) merged with `/api/show`'s: the list leaves
//! out what a Gemma 4 GGUF declares after its architecture key (vision, audio), `/api/show` has it. `/api/show`
//! answers are kept per model digest, so a list refreshed every few seconds asks only about new or changed models.

use super::OllamaClient;
use crate::error::Result;
use crate::models::{self, same_model, Capability, ModelDetails, ModelInfo};
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{json, Value};

impl OllamaClient {
    /// Installed models with their capabilities: `/api/tags`, then `/api/show` for each, together.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>> {
        let tags: Tags = self.get_json("api/tags").await?;
        let shows = join_all(tags.models.iter().map(|t| self.show_cached(t))).await;
        Ok(tags.models.into_iter().zip(shows).map(|(tag, show)| model_info(tag, show)).collect())
    }

    /// `/api/show` for a listed model, from the cache when its digest is known (a digest names the model's
    /// content: a re-pulled or re-created model has another). Failures are not kept.
    async fn show_cached(&self, tag: &Tag) -> Option<Value> {
        let key = tag.digest.clone().filter(|d| !d.is_empty());
        if let Some(hit) = key.as_ref().and_then(|k| self.show_cache.lock().unwrap().get(k).cloned()) {
            return Some(hit);
        }
        let show = self.show(&tag.name).await.ok()?;
        if let Some(k) = key {
            let mut cache = self.show_cache.lock().unwrap();
            // Bounded: a server's models fit many times over; a cache that only grows would not.
            if cache.len() >= SHOW_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(k, show.clone());
        }
        Some(show)
    }

    /// `POST /api/show` for one model.
    pub async fn show(&self, model: &str) -> Result<Value> {
        self.post_json("api/show", &json!({ "model": model }), Some(model)).await
    }

    /// The model to use for a job: the named one, checked to exist and to be able to do every job
    /// in `needs` — before anything is sent — or, when none is named, the best installed fit.
    pub async fn resolve_model(&self, named: Option<&str>, needs: &[Capability]) -> Result<String> {
        let known = async |name: &str| -> Result<Option<ModelInfo>> {
            Ok(Some(ModelInfo::named(name).with_show(Some(&self.show(name).await?))))
        };
        models::resolve_model(named, needs, known, async || self.list_models().await).await
    }

    /// The context length Ollama runs `model` with now (`/api/ps`' `context_length`: the `num_ctx` in use after
    /// Ollama capped it), or `None` when it is not loaded or the server does not say (before 0.30).
    pub async fn context_in_use(&self, model: &str) -> Result<Option<u64>> {
        #[derive(Deserialize)]
        struct Ps {
            #[serde(default)]
            models: Vec<Running>,
        }
        #[derive(Deserialize)]
        struct Running {
            name: String,
            #[serde(default)]
            context_length: Option<u64>,
        }
        let ps: Ps = self.get_json("api/ps").await?;
        Ok(ps.models.into_iter().find(|m| same_model(&m.name, model)).and_then(|m| m.context_length).filter(|n| *n > 0))
    }

    /// Details of one installed model: `/api/show`, and its size on disk from `/api/tags`.
    pub async fn details(&self, model: &str) -> Result<ModelDetails> {
        let (show, tags) = futures_util::future::join(self.show(model), self.get_json::<Tags>("api/tags")).await;
        let show = show?;
        let size = tags.ok().and_then(|t| t.models.into_iter().find(|m| same_model(&m.name, model))).map(|t| t.size);
        Ok(model_details(model, show, size))
    }
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

/// How many `/api/show` answers [`OllamaClient::list_models`] keeps.
const SHOW_CACHE_LIMIT: usize = 256;

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    details: TagDetails,
    /// Ollama 0.30+; may leave some out (see the module doc).
    #[serde(default)]
    capabilities: Vec<String>,
    /// Set for cloud models: where they run.
    #[serde(default)]
    remote_host: Option<String>,
}

#[derive(Deserialize, Default)]
struct TagDetails {
    family: Option<String>,
    parameter_size: Option<String>,
    quantization_level: Option<String>,
    /// Ollama 0.30+, for some models.
    context_length: Option<u64>,
}

/// Merge `/api/tags` and `/api/show`.
fn model_info(tag: Tag, show: Option<Value>) -> ModelInfo {
    ModelInfo {
        size: tag.size,
        family: tag.details.family,
        parameter_size: tag.details.parameter_size,
        quantization: tag.details.quantization_level,
        capabilities: tag.capabilities,
        context_length: tag.details.context_length,
        remote_host: tag.remote_host.filter(|h| !h.is_empty()),
        ..ModelInfo::named(&tag.name)
    }
    .with_show(show.as_ref())
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
        context_length: None,
    };
    let tag = Tag {
        name: name.to_string(),
        size: size.unwrap_or(0),
        digest: None,
        details: tag_details,
        capabilities: Vec::new(),
        remote_host: show.get("remote_host").and_then(Value::as_str).map(str::to_string),
    };
    let info = model_info(tag, Some(show));
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
