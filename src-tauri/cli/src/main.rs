//! `gemma-desk-cli`: Gemma Desk in a terminal. A thin adapter over `gemma-desk-core`; its flags,
//! output and exit codes are a contract that scripts and tests rely on (see README).

use clap::{Parser, Subcommand, ValueEnum};
use gemma_desk_core::agent::{self, AgentEvent, AnswerRequest};
use gemma_desk_core::audio;
use gemma_desk_core::caption::{self, ExportFormat};
use gemma_desk_core::images::{self, Detail, PrepareOptions};
use gemma_desk_core::models::{catalogue_entry, human_size, recommended_here};
use gemma_desk_core::pull::human_duration;
use gemma_desk_core::tools;
use gemma_desk_core::{
    Backend, Capability, Error, Lang, Message, OllamaClient, PullPhase, PullProgress, Result, ServerKind, Think,
};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "gemma-desk-cli",
    version,
    about = "Chat with Gemma models served by Ollama or an OpenAI-compatible server",
    after_help = "Environment: OLLAMA_HOST (default address), GEMMA_DESK_API_KEY or else OPENAI_API_KEY (API key for --api openai)"
)]
struct Cli {
    /// The server's address (default: $OLLAMA_HOST, else http://127.0.0.1:11434; with --api openai,
    /// the API's base URL such as http://HOST:8000/v1 — an address without a path gets /v1)
    #[arg(long, global = true, value_name = "URL")]
    host: Option<String>,
    /// The server's API: Ollama's own, or OpenAI-compatible (vLLM, llama.cpp, LM Studio, Ollama's /v1)
    #[arg(long, global = true, value_enum, default_value_t = Api::Ollama)]
    api: Api,
    /// API key for an OpenAI-compatible server, sent as a Bearer token
    /// (default: $GEMMA_DESK_API_KEY, else $OPENAI_API_KEY)
    #[arg(long, global = true, value_name = "KEY")]
    api_key: Option<String>,
    /// Model to use (default: the first installed model that can do the job, preferring gemma3)
    #[arg(long, global = true, value_name = "NAME")]
    model: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    Ollama,
    Openai,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Tools {
    None,
    Time,
}

/// `--think`, read by the core's own parser (the values are the core's).
fn parse_think(s: &str) -> std::result::Result<Think, String> {
    let all: Vec<&str> = Think::ALL.iter().map(|t| t.as_str()).collect();
    Think::parse(s).ok_or_else(|| format!("expected one of {}", all.join(", ")))
}

/// `--detail`, read by the core's own parser.
fn parse_detail(s: &str) -> std::result::Result<Detail, String> {
    Detail::parse(s).ok_or_else(|| "expected standard or high".to_string())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CaptionFormat {
    Text,
    Jsonl,
    Csv,
}

#[derive(Subcommand)]
enum Command {
    /// List installed models: name, size, capabilities (none installed: stderr names the model to pull for this
    /// machine's memory)
    Models {
        /// Print [{"name", "size", "capabilities", "remote_host"}] (remote_host: where a cloud model runs, else null)
        #[arg(long)]
        json: bool,
    },
    /// Download a model through Ollama; progress goes to stderr
    Pull {
        /// e.g. gemma3:4b
        model: String,
    },
    /// Remove an installed model
    #[command(visible_alias = "delete")]
    Rm {
        /// e.g. gemma3:1b
        model: String,
    },
    /// An installed model's details: family, parameters, quantization, context, capabilities, size
    Show {
        /// e.g. gemma3:4b
        model: String,
        /// Print {"name", "family", "parameter_size", "parameter_count", "quantization", "format",
        /// "context_length", "capabilities", "vision_image_size", "size", "modified_at"}
        #[arg(long)]
        json: bool,
    },
    /// Ask a model; the answer streams to stdout as it arrives
    Chat {
        /// The prompt (read from stdin when omitted)
        prompt: Option<String>,
        /// An image to send with the prompt (repeatable)
        #[arg(long, value_name = "FILE")]
        image: Vec<PathBuf>,
        /// An audio clip to send with the prompt (repeatable; WAV, MP3, FLAC, OGG Vorbis, M4A/AAC; at most 30 s),
        /// for models that hear (Gemma 4 e2b, e4b, 12b)
        #[arg(long, value_name = "FILE")]
        audio: Vec<PathBuf>,
        /// A system prompt
        #[arg(long, value_name = "TEXT")]
        system: Option<String>,
        /// Tools the model may call
        #[arg(long, value_enum, default_value_t = Tools::None)]
        tools: Tools,
        /// Most tool calls in one answer
        #[arg(long, default_value_t = 5, value_name = "N")]
        max_steps: u32,
        /// Whether the model thinks first: auto (the model's default; Gemma 4 thinks), off, on, or a level
        /// (low, medium, high, max). Thinking streams to stderr, never stdout
        #[arg(long, default_value = "auto", value_parser = parse_think, value_name = "auto|off|on|low|medium|high|max")]
        think: Think,
        /// Photo detail for models with a variable image budget (Gemma 4): standard, or high for small text
        #[arg(long, default_value = "standard", value_parser = parse_detail, value_name = "standard|high")]
        detail: Detail,
        /// Print one JSON object at the end instead of streaming text
        #[arg(long)]
        json: bool,
    },
    /// Prepare an image exactly as it would be sent to a model: upright, shrunk, re-encoded
    Image {
        /// The image file
        file: PathBuf,
        /// Longest side in pixels (the model's vision input size; Gemma 3: 896)
        #[arg(long, value_name = "N", default_value_t = images::DEFAULT_MAX_SIDE,
              value_parser = clap::value_parser!(u32).range(1..=65_535))]
        max_side: u32,
        /// Write the prepared image (JPEG or PNG, as sent) to FILE
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print {"source_width", "source_height", "width", "height", "orientation", "format", "bytes", "base64_len", "ms"}
        #[arg(long)]
        json: bool,
    },
    /// Caption photos one by one (folders expand to the images in them), in input order
    Caption {
        /// Image files and folders
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
        /// What to ask about each photo (default: "Describe this image.")
        #[arg(long, value_name = "TEXT")]
        prompt: Option<String>,
        /// Output: text lines, JSON Lines ({"file", "caption"} or {"file", "error"}) or CSV (file,caption,error)
        #[arg(long, value_enum, default_value_t = CaptionFormat::Text)]
        format: CaptionFormat,
        /// Write the results to FILE instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run one tool locally and print the observation exactly as the model gets it
    Tool {
        /// current_time, localtime_to_timestamp, timestamp_to_localtime, timezone_conversion or weekday
        name: String,
        /// The tool's parameters as a JSON object, e.g. '{"timezone": "Asia/Tokyo"}'
        json_args: Option<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    let lang = Lang::from_env();
    let server = match cli.api {
        Api::Ollama => ServerKind::Ollama,
        Api::Openai => ServerKind::OpenAi,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let code = match runtime.block_on(run(cli, lang)) {
        Ok(()) => 0,
        Err(e) => {
            report(&e, lang, server);
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn report(e: &Error, lang: Lang, server: ServerKind) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", server.message(e, lang));
    if let Some(h) = server.hint(e, lang) {
        let _ = writeln!(err, "hint: {h}");
    }
}

/// The API key for `--api openai`: the flag, else `GEMMA_DESK_API_KEY`, else `OPENAI_API_KEY`.
fn api_key(flag: Option<String>) -> Option<String> {
    let env = |name: &str| std::env::var(name).ok();
    [flag, env("GEMMA_DESK_API_KEY"), env("OPENAI_API_KEY")].into_iter().flatten().find(|k| !k.trim().is_empty())
}

/// The server the flags name.
fn connect(cli: &Cli) -> Result<Backend> {
    match cli.api {
        Api::Ollama => {
            if cli.api_key.is_some() {
                return Err(Error::Usage("--api-key is for --api openai: Ollama's own API takes no key".into()));
            }
            Backend::connect(ServerKind::Ollama, cli.host.as_deref(), None)
        }
        Api::Openai => {
            Backend::connect(ServerKind::OpenAi, cli.host.as_deref(), api_key(cli.api_key.clone()).as_deref())
        }
    }
}

async fn run(cli: Cli, lang: Lang) -> Result<()> {
    // Local commands: no server needed.
    if let Command::Tool { name, json_args } = &cli.command {
        return tool(name, json_args.as_deref());
    }
    if let Command::Image { file, max_side, out, json } = &cli.command {
        return prepare_image(file, *max_side, out.as_deref(), *json);
    }
    let client = connect(&cli)?;
    if client.insecure() && client.kind() == ServerKind::OpenAi && api_key(cli.api_key.clone()).is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            lang.pick(
                "warning: plain http to another machine: the API key and the conversation are sent unencrypted",
                "警告：以明文 http 连接其他机器：API 密钥和对话内容都未加密",
            )
        );
    }
    match cli.command {
        Command::Models { json } => models(&client, json, lang).await,
        Command::Pull { model } => pull(ollama_only(&client, "pull", lang)?, &model, lang).await,
        Command::Rm { model } => remove(ollama_only(&client, "rm", lang)?, &model, lang).await,
        Command::Show { model, json } => show(ollama_only(&client, "show", lang)?, &model, json, lang).await,
        Command::Chat { prompt, image, audio, system, tools, max_steps, think, detail, json } => {
            let tools = tools == Tools::Time;
            let chat_args = ChatArgs { prompt, images: image, audio, system, tools, max_steps, think, detail, json };
            chat(&client, cli.model.as_deref(), chat_args, lang).await
        }
        Command::Caption { paths, prompt, format, out } => {
            caption(&client, cli.model.as_deref(), &paths, prompt, format, out.as_deref(), lang).await
        }
        Command::Tool { .. } | Command::Image { .. } => unreachable!("handled above"),
    }
}

/// Model management is Ollama's own API: OpenAI-compatible servers have no pull, delete or show.
fn ollama_only<'a>(client: &'a Backend, command: &str, lang: Lang) -> Result<&'a OllamaClient> {
    match client {
        Backend::Ollama(c) => Ok(c),
        Backend::OpenAi(_) => Err(Error::Usage(format!(
            "{command}: {}",
            lang.pick(
                "OpenAI-compatible servers cannot manage models; use it with an Ollama server (--api ollama)",
                "OpenAI 兼容服务器不能管理模型；请对 Ollama 服务器使用此命令（--api ollama）",
            )
        ))),
    }
}

/// Exit codes: 0 every file captioned, 1 some failed (their errors are in the output), 5 none was readable.
async fn caption(
    client: &Backend,
    model: Option<&str>,
    paths: &[PathBuf],
    prompt: Option<String>,
    format: CaptionFormat,
    out: Option<&Path>,
    lang: Lang,
) -> Result<()> {
    let files = images::collect_images(paths);
    if files.is_empty() {
        let shown = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        return Err(Error::BadInput { path: shown, reason: "no images found".into() });
    }
    let model = client.resolve_model(model, &[Capability::Vision]).await?;
    let opts = client.prepare_options(&model, Detail::Standard).await;
    let prompt = prompt
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| lang.pick("Describe this image.", "图片里有什么？").to_string());

    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| Error::Other(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let format = match format {
        CaptionFormat::Text => ExportFormat::Text,
        CaptionFormat::Jsonl => ExportFormat::Jsonl,
        CaptionFormat::Csv => ExportFormat::Csv,
    };
    let mut write_err = sink.write_all(format.header().as_bytes()).err();
    let total = files.len();
    let results = caption::caption_files(client, &model, &files, &prompt, &opts, |i, result| {
        let row = result.row(lang);
        if let Err(e) = sink.write_all(format.row(&row).as_bytes()).and_then(|_| sink.flush()) {
            write_err.get_or_insert(e);
        }
        let _ = writeln!(std::io::stderr(), "[{}/{total}] {}", i + 1, row.file);
    })
    .await;
    let _ = sink.flush();
    if let Some(e) = write_err {
        return Err(Error::Other(format!("cannot write the results: {e}")));
    }
    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    if failed == 0 {
        Ok(())
    } else if results.iter().all(|r| r.unreadable()) {
        std::process::exit(5);
    } else {
        let _ = writeln!(std::io::stderr(), "{failed} of {total} failed");
        std::process::exit(1);
    }
}

fn prepare_image(file: &Path, max_side: u32, out: Option<&Path>, json: bool) -> Result<()> {
    let start = Instant::now();
    let p = images::prepare_file(file, &PrepareOptions::with_max_side(max_side))?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Some(out) = out {
        std::fs::write(out, p.encoded()).map_err(|e| Error::Other(format!("cannot write {}: {e}", out.display())))?;
    }
    if json {
        let v = serde_json::json!({
            "source_width": p.source_width, "source_height": p.source_height,
            "width": p.width, "height": p.height, "orientation": p.orientation,
            "format": p.format.as_str(), "bytes": p.bytes,
            "base64_len": p.base64.len(), "ms": (ms * 10.0).round() / 10.0,
        });
        println!("{v}");
    } else {
        let turned =
            if p.orientation != 1 { format!(", EXIF orientation {} applied", p.orientation) } else { String::new() };
        println!(
            "{}: {} {}×{} → {} {}×{}, {} bytes ({} base64 characters){turned}, {ms:.0} ms",
            file.display(),
            p.format,
            p.source_width,
            p.source_height,
            p.mime,
            p.width,
            p.height,
            p.bytes,
            p.base64.len()
        );
    }
    Ok(())
}

fn tool(name: &str, json_args: Option<&str>) -> Result<()> {
    if !tools::tool_names().contains(&name.trim().to_ascii_lowercase().as_str()) {
        return Err(Error::Usage(format!("unknown tool \"{name}\"; valid tools: {}", tools::tool_names().join(", "))));
    }
    // Arguments that are not JSON go to the tool as a string, as a model's would.
    let args = match json_args {
        None => serde_json::json!({}),
        Some(s) => serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_string())),
    };
    let result = tools::run_tool(name, &args, &tools::ToolContext::system());
    println!("{}", result.observation);
    if result.is_error {
        std::process::exit(1);
    }
    Ok(())
}

async fn models(client: &Backend, json: bool, lang: Lang) -> Result<()> {
    let models = client.list_models().await?;
    if let Backend::OpenAi(c) = client {
        if !models.is_empty() && !c.capabilities_reported().await {
            let _ = writeln!(
                std::io::stderr(),
                "note: this server does not report what its models can do; capabilities are guessed from model names"
            );
        }
    }
    if models.is_empty() && matches!(client, Backend::Ollama(_)) {
        suggest_pull(lang);
    }
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<_> = models
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.name, "size": m.size, "capabilities": m.capabilities, "remote_host": m.remote_host
                })
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Array(list));
        return Ok(());
    }
    let width = models.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "{:width$}  {:>9}  CAPABILITIES", "NAME", "SIZE");
    for m in &models {
        // OpenAI-compatible servers do not report sizes.
        let size = if m.size == 0 { "-".to_string() } else { human_size(m.size) };
        // Where a cloud model runs, so nobody sends it private text unknowingly.
        let cloud = match (&m.remote_host, m.is_cloud()) {
            (Some(host), _) => format!("  (cloud: {host})"),
            (None, true) => "  (cloud)".to_string(),
            _ => String::new(),
        };
        let _ = writeln!(out, "{:width$}  {:>9}  {}{cloud}", m.name, size, m.capabilities.join(", "));
    }
    Ok(())
}

/// Nothing installed: name the catalogue's pick for this machine's memory, on stderr so stdout's list stays empty.
fn suggest_pull(lang: Lang) {
    let pick = recommended_here();
    let line = match lang {
        Lang::En => {
            format!("no models installed; for this machine: gemma-desk-cli pull {} ({})", pick.name, pick.summary(lang))
        }
        Lang::Zh => format!("尚未安装模型；适合本机的是：gemma-desk-cli pull {}（{}）", pick.name, pick.summary(lang)),
    };
    eprintln!("{line}");
}

/// Exit codes: 0 downloaded, 3 Ollama unreachable, 4 no such model, 1 anything else (Ctrl-C too).
async fn pull(client: &OllamaClient, model: &str, lang: Lang) -> Result<()> {
    if let Some(entry) = catalogue_entry(model) {
        eprintln!("{}", entry.summary(lang));
    }
    let mut view = PullView::new(std::io::stderr().is_terminal(), lang);
    let outcome = tokio::select! {
        r = client.pull(model, |p| view.show(p)) => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Cancelled),
    };
    view.end_line();
    match outcome {
        Ok(out) => {
            let took = human_duration(out.elapsed_ms as f64 / 1000.0);
            let line = match (lang, out.downloaded) {
                (Lang::En, 0) => format!("{} is ready (it was already up to date)", out.model),
                (Lang::Zh, 0) => format!("{} 已就绪（本来就是最新的）", out.model),
                (Lang::En, n) => format!("{} is ready: {} downloaded in {took}", out.model, human_size(n)),
                (Lang::Zh, n) => format!("{} 已就绪：用时 {took}，下载了 {}", out.model, human_size(n)),
            };
            eprintln!("{line}");
            Ok(())
        }
        Err(Error::Cancelled) => {
            let (stopped, again) = match lang {
                Lang::En => ("stopped", format!("run `gemma-desk-cli pull {model}` again to resume the download")),
                Lang::Zh => ("已停止", format!("再次运行 `gemma-desk-cli pull {model}` 即可继续下载")),
            };
            eprintln!("{stopped}\nhint: {again}");
            std::process::exit(1);
        }
        Err(e) => Err(e),
    }
}

/// Pull progress on stderr: a line per phase; while downloading, one line redrawn in place on a
/// terminal (at most ten times a second), or a line per tenth of the way when stderr is a file.
struct PullView {
    tty: bool,
    lang: Lang,
    phase: Option<PullPhase>,
    /// The latest download progress, drawn or not.
    last: Option<PullProgress>,
    /// Width of the line now under the cursor, if one is being redrawn.
    live: Option<usize>,
    drawn_at: Option<Instant>,
    /// Plain output: the next percentage worth a line.
    next_percent: u64,
}

impl PullView {
    fn new(tty: bool, lang: Lang) -> PullView {
        PullView { tty, lang, phase: None, last: None, live: None, drawn_at: None, next_percent: 0 }
    }

    fn show(&mut self, p: &PullProgress) {
        if self.phase != Some(p.phase) {
            // Leave the download line at its final figures before the next phase's line.
            if let Some(last) = self.last.take() {
                if self.tty {
                    self.draw(&last);
                }
            }
            self.end_line();
            self.phase = Some(p.phase);
            if p.phase != PullPhase::Done {
                eprintln!("{}", p.phase.label(self.lang));
            }
        }
        if p.phase != PullPhase::Downloading {
            return;
        }
        self.last = Some(p.clone());
        let percent = (p.fraction.unwrap_or(0.0) * 100.0).floor() as u64;
        if self.tty {
            if self.drawn_at.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) {
                self.draw(p);
            }
        } else if percent >= self.next_percent {
            eprintln!("{}", self.line(p));
            self.next_percent = (percent / 10 + 1) * 10;
        }
    }

    /// ` 42%  1.4 GB / 3.3 GB  25.3 MB/s  1m 15s left`
    fn line(&self, p: &PullProgress) -> String {
        let percent = (p.fraction.unwrap_or(0.0) * 100.0).floor();
        let mut s = format!("{percent:>3}%  {} / {}", human_size(p.completed), human_size(p.total));
        if let Some(speed) = p.bytes_per_second {
            s.push_str(&format!("  {}/s", human_size(speed as u64)));
        }
        if let Some(eta) = p.eta_seconds {
            let eta = human_duration(eta);
            s.push_str(&match self.lang {
                Lang::En => format!("  {eta} left"),
                Lang::Zh => format!("  剩余 {eta}"),
            });
        }
        s
    }

    fn draw(&mut self, p: &PullProgress) {
        let line = self.line(p);
        let width = line.chars().count();
        // Pad over what the previous, possibly longer, line left behind.
        let pad = self.live.unwrap_or(0).saturating_sub(width);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{}", " ".repeat(pad));
        let _ = err.flush();
        self.live = Some(width);
        self.drawn_at = Some(Instant::now());
    }

    /// Moves past a line being redrawn, if any.
    fn end_line(&mut self) {
        if self.live.take().is_some() {
            eprintln!();
        }
    }
}

/// Exit codes: 0 removed, 4 not installed.
async fn remove(client: &OllamaClient, model: &str, lang: Lang) -> Result<()> {
    match client.delete(model).await {
        Ok(()) => {
            println!("{} {model}", lang.pick("deleted", "已删除"));
            Ok(())
        }
        Err(e @ Error::ModelNotFound { .. }) => {
            // The usual hint (pull it first) makes no sense for a removal.
            eprintln!("error: {}", e.message(lang));
            eprintln!(
                "hint: {}",
                lang.pick(
                    "`gemma-desk-cli models` lists the installed ones.",
                    "`gemma-desk-cli models` 会列出已安装的模型。"
                )
            );
            std::process::exit(e.exit_code());
        }
        Err(e) => Err(e),
    }
}

async fn show(client: &OllamaClient, model: &str, json: bool, lang: Lang) -> Result<()> {
    let d = client.details(model).await?;
    if json {
        println!("{}", serde_json::to_string(&d).expect("details serialise"));
        return Ok(());
    }
    let none = || "-".to_string();
    let rows = [
        (lang.pick("family", "系列"), d.family.clone().unwrap_or_else(none)),
        (lang.pick("parameters", "参数量"), d.parameter_size.clone().unwrap_or_else(none)),
        (lang.pick("quantization", "量化"), d.quantization.clone().unwrap_or_else(none)),
        (lang.pick("context length", "上下文长度"), d.context_length.map_or_else(none, |n| n.to_string())),
        (lang.pick("capabilities", "能力"), d.capabilities.join(", ")),
        (lang.pick("image size", "图像尺寸"), d.vision_image_size.map_or_else(none, |n| format!("{n}×{n}"))),
        (lang.pick("size on disk", "占用空间"), d.size.map_or_else(none, human_size)),
    ];
    // Terminal columns: CJK characters take two.
    let cols = |s: &str| s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum::<usize>();
    let width = rows.iter().map(|(k, _)| cols(k)).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", d.name);
    for (key, value) in rows {
        let pad = width - cols(key);
        let _ = writeln!(out, "  {key}{}  {value}", " ".repeat(pad));
    }
    Ok(())
}

struct ChatArgs {
    prompt: Option<String>,
    images: Vec<PathBuf>,
    audio: Vec<PathBuf>,
    system: Option<String>,
    tools: bool,
    max_steps: u32,
    think: Think,
    detail: Detail,
    json: bool,
}

async fn chat(client: &Backend, model: Option<&str>, args: ChatArgs, lang: Lang) -> Result<()> {
    let ChatArgs { prompt, images: image_paths, audio: audio_paths, system, tools, max_steps, think, detail, json } =
        args;
    let prompt = match prompt {
        Some(p) => p,
        None if std::io::stdin().is_terminal() => String::new(),
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::Usage(format!("cannot read the prompt from stdin: {e}")))?;
            s
        }
    };
    let prompt = match prompt.trim() {
        "" if image_paths.is_empty() && audio_paths.is_empty() => {
            return Err(Error::Usage("no prompt: give one as an argument or on stdin".into()))
        }
        "" if image_paths.is_empty() => lang.pick("Answer what you hear.", "请回答你听到的内容。").to_string(),
        "" => lang.pick("Describe this image.", "图片里有什么？").to_string(),
        _ => prompt,
    };
    let needs: &[Capability] = if image_paths.is_empty() { &[] } else { &[Capability::Vision] };
    // The model is checked first (nothing is read or sent for a model that cannot see), then
    // the images are prepared for its vision input size: upright, shrunk, re-encoded.
    let model = client.resolve_model(model, needs).await?;
    if !audio_paths.is_empty() {
        client.check_hears(&model).await?;
    }
    // Clips are decoded (any length check included) before anything is sent: a bad one exits 5.
    let audio = tokio::task::spawn_blocking(move || {
        audio_paths
            .iter()
            .map(|p| audio::prepare_audio_file(p, &audio::AudioOptions::default()).map(|a| a.base64))
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| Error::Other(format!("audio preparation failed: {e}")))??;
    let mut image_max_tokens = None;
    let images = if image_paths.is_empty() {
        Vec::new()
    } else {
        let opts = client.prepare_options(&model, detail).await;
        // Gemma 4 at high detail: the server is asked for the larger budget too.
        image_max_tokens = detail.image_max_tokens(&opts);
        let prepared = tokio::task::spawn_blocking(move || images::prepare_many(&image_paths, &opts))
            .await
            .map_err(|e| Error::Other(format!("image preparation failed: {e}")))?;
        prepared.into_iter().map(|r| r.map(|p| p.base64)).collect::<Result<Vec<_>>>()?
    };

    let mut messages = Vec::new();
    if let Some(s) = system.filter(|s| !s.trim().is_empty()) {
        messages.push(Message::system(s));
    }
    let mut user = Message::user(prompt);
    user.images = images;
    user.audio = audio;
    messages.push(user);
    let mut req = AnswerRequest::new(model, messages);
    req.tools = tools;
    req.max_steps = max_steps;
    req.lang = lang;
    req.think = think;
    req.options.image_max_tokens = image_max_tokens;

    // The answer goes to stdout as it streams; thinking and the tool trace to stderr, so stdout stays the answer.
    let mut ended_with_newline = true;
    let mut thinking_open = false;
    let mut on_event = |event: AgentEvent| match event {
        AgentEvent::Thinking { text } if !json => {
            let mut err = std::io::stderr().lock();
            if !thinking_open {
                let _ = write!(err, "{}", lang.pick("[thinking] ", "[思考] "));
                thinking_open = true;
            }
            let _ = err.write_all(text.as_bytes());
            let _ = err.flush();
        }
        AgentEvent::Delta { text } if !json => {
            if std::mem::take(&mut thinking_open) {
                let _ = writeln!(std::io::stderr());
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            ended_with_newline = text.ends_with('\n');
        }
        // Text already printed cannot be taken back; at least start the real answer on a new line.
        AgentEvent::Retract if !json && !ended_with_newline => {
            let _ = writeln!(std::io::stdout());
            ended_with_newline = true;
        }
        AgentEvent::Step(step) if !json => {
            if std::mem::take(&mut thinking_open) {
                let _ = writeln!(std::io::stderr());
            }
            let _ = writeln!(std::io::stderr(), "[{}] {} → {}", step.tool, step.input, step.observation);
        }
        _ => {}
    };
    let answer = agent::answer(client, req, &mut on_event);
    let outcome = tokio::select! {
        r = answer => r,
        _ = tokio::signal::ctrl_c() => Err(Error::Cancelled),
    };
    if !json && !ended_with_newline {
        let _ = writeln!(std::io::stdout());
    }
    let outcome = outcome?;
    if json {
        let v = serde_json::json!({
            "answer": outcome.answer,
            "model": outcome.model,
            "steps": outcome.steps,
            "rounds": outcome.rounds,
            "thinking": outcome.thinking,
        });
        let _ = writeln!(std::io::stdout(), "{v}");
    }
    Ok(())
}
