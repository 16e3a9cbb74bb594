//! State shared by the server and the `Emulator` handle.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::model::ModelSpec;
use crate::reply::{RecordedRequest, Reply};
use crate::util::normalize_model;

pub const DEFAULT_VERSION: &str = "0.12.10";

#[derive(Clone, Debug)]
pub struct Installed {
    pub spec: ModelSpec,
    pub modified_at: SystemTime,
}

#[derive(Clone, Debug)]
pub struct Loaded {
    pub spec: ModelSpec,
    /// None = kept loaded forever (negative keep_alive).
    pub expires_at: Option<SystemTime>,
    pub context_length: u64,
}

pub struct Inner {
    pub models: Vec<Installed>,
    pub catalogue: Vec<ModelSpec>,
    pub queue: VecDeque<Reply>,
    /// Scripted misbehaviour of `/api/pull` (FIFO), separate from chat replies.
    pub pull_queue: VecDeque<Reply>,
    /// (id, request): ids let a disconnect guard find its request even after others are added.
    pub requests: Vec<(u64, RecordedRequest)>,
    pub version: String,
    pub pull_delay_ms: u64,
    pub api_key: Option<String>,
    /// Like OLLAMA_ORIGINS: allowed on top of the built-in list.
    pub extra_origins: Vec<String>,
    pub loaded: Vec<Loaded>,
    /// Turns that carried tool calls so far: seeds the calls' ids.
    pub turns_with_calls: u64,
}

impl Inner {
    fn fresh() -> Inner {
        let mut inner = Inner {
            models: Vec::new(),
            catalogue: ModelSpec::catalogue(),
            queue: VecDeque::new(),
            pull_queue: VecDeque::new(),
            requests: Vec::new(),
            version: DEFAULT_VERSION.into(),
            pull_delay_ms: 0,
            api_key: None,
            extra_origins: Vec::new(),
            loaded: Vec::new(),
            turns_with_calls: 0,
        };
        inner.set_models(ModelSpec::defaults());
        inner
    }

    /// Installs `models`, the first being the most recently modified (tags lists newest first).
    pub fn set_models(&mut self, models: Vec<ModelSpec>) {
        let now = SystemTime::now();
        self.models = models
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Installed { spec, modified_at: now - Duration::from_secs(60 * (i as u64 + 1)) })
            .collect();
        self.loaded.clear();
    }

    pub fn find_model(&self, name: &str) -> Option<ModelSpec> {
        let want = normalize_model(name);
        self.models.iter().find(|m| normalize_model(&m.spec.name) == want).map(|m| m.spec.clone())
    }

    pub fn installed(&self, name: &str) -> Option<&Installed> {
        let want = normalize_model(name);
        self.models.iter().find(|m| normalize_model(&m.spec.name) == want)
    }

    /// Adds (or refreshes) a pulled model; it becomes the newest.
    pub fn install(&mut self, spec: ModelSpec) {
        let want = normalize_model(&spec.name);
        self.models.retain(|m| normalize_model(&m.spec.name) != want);
        self.models.insert(0, Installed { spec, modified_at: SystemTime::now() });
    }

    pub fn remove_model(&mut self, name: &str) -> bool {
        let want = normalize_model(name);
        let before = self.models.len();
        self.models.retain(|m| normalize_model(&m.spec.name) != want);
        self.loaded.retain(|l| normalize_model(&l.spec.name) != want);
        self.models.len() != before
    }

    /// Pops the first queued reply that applies to `model`.
    pub fn take_reply(&mut self, model: &str) -> Option<Reply> {
        take_for(&mut self.queue, model)
    }

    /// Pops the first queued pull script that applies to `model`.
    pub fn take_pull_reply(&mut self, model: &str) -> Option<Reply> {
        take_for(&mut self.pull_queue, model)
    }

    /// Records that `spec` ran, as the scheduler would (for `/api/ps`).
    pub fn mark_loaded(&mut self, spec: &ModelSpec, keep_alive_secs: Option<f64>, num_ctx: u64) {
        let want = normalize_model(&spec.name);
        self.loaded.retain(|l| normalize_model(&l.spec.name) != want);
        let secs = keep_alive_secs.unwrap_or(300.0);
        if secs == 0.0 {
            return; // keep_alive 0 unloads right after the request.
        }
        let expires_at = (secs > 0.0).then(|| SystemTime::now() + Duration::from_secs_f64(secs));
        // Ollama caps `num_ctx` at the model's trained context (GEMMA4-FACTS.md §8); `/api/ps` shows the result.
        let context_length = num_ctx.min(spec.context_length);
        self.loaded.insert(0, Loaded { spec: spec.clone(), expires_at, context_length });
    }

    pub fn unload(&mut self, name: &str) {
        let want = normalize_model(name);
        self.loaded.retain(|l| normalize_model(&l.spec.name) != want);
    }
}

fn take_for(queue: &mut VecDeque<Reply>, model: &str) -> Option<Reply> {
    let want = normalize_model(model);
    let pos = queue.iter().position(|r| match &r.model {
        None => true,
        Some(m) => normalize_model(m) == want,
    })?;
    queue.remove(pos)
}

pub struct Shared {
    inner: Mutex<Inner>,
    next_request_id: AtomicU64,
    next_completion_id: AtomicU64,
    /// Set while the server is being torn down, so dropped bodies don't count as client aborts.
    pub shutting_down: AtomicBool,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            inner: Mutex::new(Inner::fresh()),
            next_request_id: AtomicU64::new(1),
            next_completion_id: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Locks the state; a panic elsewhere must not make every later test call panic too.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn reset(&self) {
        *self.lock() = Inner::fresh();
    }

    pub fn record(&self, req: RecordedRequest) -> u64 {
        let id = self.next_request_id.fetch_add(1, Ordering::Relaxed);
        self.lock().requests.push((id, req));
        id
    }

    pub fn mark_disconnected(&self, id: u64) {
        if self.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        let mut inner = self.lock();
        if let Some((_, r)) = inner.requests.iter_mut().rev().find(|(i, _)| *i == id) {
            r.client_disconnected = true;
        }
    }

    pub fn completion_id(&self) -> u64 {
        self.next_completion_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new()
    }
}
