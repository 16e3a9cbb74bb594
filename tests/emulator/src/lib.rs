//! A faithful, scriptable Ollama emulator for tests.
//!
//! It speaks Ollama's wire protocol (`/api/*` NDJSON streams, the OpenAI-compatible `/v1`
//! surface, Go-flavoured error messages, the origin check) and lets a test script the replies
//! and inspect the requests it received:
//!
//! ```no_run
//! use ollama_emulator::{Emulator, Reply};
//!
//! let emu = Emulator::start();
//! emu.push_reply(Reply::text("Hi there").delay_ms(5));
//! // … point the client at emu.url(), then:
//! assert_eq!(emu.requests_to("/api/chat").len(), 1);
//! ```
//!
//! The server runs on its own thread with its own Tokio runtime, so the same handle works from
//! synchronous tests and from inside any async runtime.
//!
//! Out of the box it is the Ollama 0.12 that Gemma 3 was built against (gemma3:4b, gemma3:1b,
//! qwen3:0.6b). Gemma 4 as Ollama 0.30+ serves it comes with its model definitions
//! (`ModelSpec::gemma4_all()`: e2b, e4b, 12b, 26b, 31b and `gemma4:31b-cloud`), which carry the
//! newer behaviour per model, so Gemma 3 answers exactly as before beside them. Its wire facts
//! are in `GEMMA4-FACTS.md` (a copy of the shared note, cited by section as §N in the code):
//! thinking by default and `think` levels (§3), tool calls with ids in one chunk and the
//! parser's mangled calls (§4), audio in `images` (§5), `/api/tags` that lists less than
//! `/api/show` (§1, §2), `/v1` reasoning (§9). A test scripts thinking with
//! `Reply::text("…").thinking("…")` and reads what images and audio were sent (format, pixel
//! size, WAV format and length) from `RecordedRequest::media`.

mod gojson;
mod media;
mod model;
mod openai;
mod reply;
mod server;
mod state;
mod stream;
mod util;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use media::{silent_wav, MediaItem};
pub use model::ModelSpec;
pub use reply::{RecordedRequest, Reply};
pub use state::DEFAULT_VERSION;

use state::Shared;

/// A running emulator. Dropping it shuts the server down (open connections are closed).
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on 127.0.0.1 with a random free port and the default models.
    pub fn start() -> Emulator {
        Emulator::start_on("127.0.0.1", 0).expect("failed to start the Ollama emulator")
    }

    /// Starts on `host:port` (port 0 picks a free one).
    pub fn start_on(host: &str, port: u16) -> std::io::Result<Emulator> {
        // Bind before spawning so the port is known (and listening) when this returns.
        let listener = TcpListener::bind((host, port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        let app = server::router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let thread = std::thread::Builder::new().name(format!("ollama-emulator-{}", addr.port())).spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("ollama-emulator: {e}");
                        return;
                    }
                };
                // Ollama is a Go server, and Go sets TCP_NODELAY on every connection: without it a streamed
                // line can wait ~40 ms for the client's delayed ACK.
                let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                // Not a graceful shutdown: a stalled stream must not keep Drop waiting.
                tokio::select! {
                    r = axum::serve(listener, app) => {
                        if let Err(e) = r {
                            eprintln!("ollama-emulator: {e}");
                        }
                    }
                    _ = rx => {}
                }
            });
            // Dropping the runtime drops every connection task, closing their sockets.
            drop(runtime);
        })?;
        Ok(Emulator { shared, addr, shutdown: Some(tx), thread: Some(thread) })
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Replaces the installed models (the first is listed first by `/api/tags`).
    pub fn set_models(&self, models: Vec<ModelSpec>) {
        self.shared.lock().set_models(models);
    }

    /// Replaces what `/api/pull` can fetch.
    pub fn set_catalogue(&self, models: Vec<ModelSpec>) {
        self.shared.lock().catalogue = models;
    }

    /// Queues a scripted reply (FIFO).
    pub fn push_reply(&self, reply: Reply) {
        self.shared.lock().queue.push_back(reply);
    }

    /// Every request received so far (control endpoints excluded), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.iter().map(|(_, r)| r.clone()).collect()
    }

    /// The recorded requests whose path is exactly `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// What `/api/version` reports.
    pub fn set_version(&self, v: &str) {
        self.shared.lock().version = v.into();
    }

    /// Scripts how the next `/api/pull` (of `reply.model`, or any) goes wrong, counting progress
    /// lines where a chat reply counts chunks: `error_after(n, msg)` sends n lines then
    /// `{"error": msg}` (HTTP 200, as Ollama does once streaming), `cut_after(n)` / `stall_after(n)`
    /// break the connection off, `status(code, msg)` fails before streaming, `delay_ms` replaces
    /// the pull delay. A pull that does not reach `success` installs nothing.
    pub fn push_pull_reply(&self, reply: Reply) {
        self.shared.lock().pull_queue.push_back(reply);
    }

    /// Delay before each `/api/pull` progress line.
    pub fn set_pull_delay_ms(&self, ms: u64) {
        self.shared.lock().pull_delay_ms = ms;
    }

    /// When set, every request must carry `Authorization: Bearer <key>` (401 otherwise).
    pub fn set_api_key(&self, key: Option<String>) {
        self.shared.lock().api_key = key;
    }

    /// Extra allowed origins, like `OLLAMA_ORIGINS` (patterns may use one `*`).
    pub fn set_allowed_origins(&self, origins: Vec<String>) {
        self.shared.lock().extra_origins = origins;
    }

    /// Back to the initial state: default models and catalogue, empty queues, no requests,
    /// default version, no pull delay, no api key.
    pub fn reset(&self) {
        self.shared.reset();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
