//! `gemma-desk-cli`: Gemma Desk in a terminal. A thin adapter over `gemma-desk-core`; its flags,
//! output and exit codes are a contract that scripts and tests rely on (see README).

use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use gemma_desk_core::models::human_size;
use gemma_desk_core::{Capability, ChatRequest, Error, Lang, Message, OllamaClient, Result};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "gemma-desk-cli", version, about = "Chat with Gemma models served by Ollama")]
struct Cli {
    /// Ollama's address (default: $OLLAMA_HOST, else http://127.0.0.1:11434)
    #[arg(long, global = true, value_name = "URL")]
    host: Option<String>,
    /// The server's API
    #[arg(long, global = true, value_enum, default_value_t = Api::Ollama)]
    api: Api,
    /// API key for an OpenAI-compatible server
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

#[derive(Subcommand)]
enum Command {
    /// List installed models: name, size, capabilities
    Models {
        /// Print [{"name", "size", "capabilities"}]
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
        /// A system prompt
        #[arg(long, value_name = "TEXT")]
        system: Option<String>,
        /// Tools the model may call
        #[arg(long, value_enum, default_value_t = Tools::None)]
        tools: Tools,
        /// Most tool calls in one answer
        #[arg(long, default_value_t = 5, value_name = "N")]
        max_steps: u32,
        /// Print one JSON object at the end instead of streaming text
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let lang = Lang::from_env();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let code = match runtime.block_on(run(cli, lang)) {
        Ok(()) => 0,
        Err(e) => {
            report(&e, lang);
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn report(e: &Error, lang: Lang) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", e.message(lang));
    if let Some(h) = e.hint(lang) {
        let _ = writeln!(err, "hint: {h}");
    }
}

async fn run(cli: Cli, lang: Lang) -> Result<()> {
    if cli.api == Api::Openai {
        return Err(Error::Usage("--api openai is not available in this version yet; use an Ollama server".into()));
    }
    let _ = &cli.api_key; // used by --api openai
    let client = OllamaClient::connect(cli.host.as_deref())?;
    match cli.command {
        Command::Models { json } => models(&client, json).await,
        Command::Chat { prompt, image, system, tools, max_steps, json } => {
            if tools == Tools::Time {
                return Err(Error::Usage("--tools time is not available in this version yet".into()));
            }
            let _ = max_steps;
            chat(&client, cli.model.as_deref(), prompt, &image, system, json, lang).await
        }
    }
}

async fn models(client: &OllamaClient, json: bool) -> Result<()> {
    let models = client.list_models().await?;
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<_> = models
            .iter()
            .map(|m| serde_json::json!({ "name": m.name, "size": m.size, "capabilities": m.capabilities }))
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Array(list));
        return Ok(());
    }
    let width = models.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "{:width$}  {:>9}  CAPABILITIES", "NAME", "SIZE");
    for m in &models {
        let _ = writeln!(out, "{:width$}  {:>9}  {}", m.name, human_size(m.size), m.capabilities.join(", "));
    }
    Ok(())
}

async fn chat(
    client: &OllamaClient,
    model: Option<&str>,
    prompt: Option<String>,
    images: &[PathBuf],
    system: Option<String>,
    json: bool,
    lang: Lang,
) -> Result<()> {
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
    let images = images.iter().map(|p| read_image(p)).collect::<Result<Vec<_>>>()?;
    let prompt = match prompt.trim() {
        "" if images.is_empty() => return Err(Error::Usage("no prompt: give one as an argument or on stdin".into())),
        "" => lang.pick("Describe this image.", "图片里有什么？").to_string(),
        _ => prompt,
    };
    let needs: &[Capability] = if images.is_empty() { &[] } else { &[Capability::Vision] };
    let model = client.resolve_model(model, needs).await?;

    let mut messages = Vec::new();
    if let Some(s) = system.filter(|s| !s.trim().is_empty()) {
        messages.push(Message::system(s));
    }
    let mut user = Message::user(prompt);
    user.images = images;
    messages.push(user);
    let req = ChatRequest::new(model, messages);

    let mut stdout = std::io::stdout();
    let mut ended_with_newline = true;
    let answer = client.chat(&req, |delta| {
        if !json {
            let _ = stdout.write_all(delta.as_bytes());
            let _ = stdout.flush();
            ended_with_newline = delta.ends_with('\n');
        }
    });
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
            "answer": outcome.content,
            "model": outcome.model,
            "steps": [],
            "rounds": 1,
        });
        let _ = writeln!(std::io::stdout(), "{v}");
    }
    Ok(())
}

/// Read an image to send. (Preparation — orientation, resizing — belongs to the core's image module.)
fn read_image(path: &Path) -> Result<String> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::BadInput { path: shown.clone(), reason: e.to_string() })?;
    if bytes.is_empty() {
        return Err(Error::BadInput { path: shown, reason: "the file is empty".into() });
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
