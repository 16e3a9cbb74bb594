//! `ollama-emulator [--port N] [--host 127.0.0.1]`: serves until killed. Control it over HTTP
//! under `/_emulator/` (reset, models, catalogue, replies, requests, version, pull_delay,
//! pull_replies, api_key, origins).

use std::io::Write;

use clap::Parser;
use ollama_emulator::Emulator;

#[derive(Parser)]
#[command(version, about = "A scriptable emulator of the Ollama HTTP API, for tests")]
struct Args {
    /// Port to listen on; 0 picks a free one (the first stdout line says which).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
}

fn main() {
    let args = Args::parse();
    let emu = match Emulator::start_on(&args.host, args.port) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ollama-emulator: cannot listen on {}:{}: {e}", args.host, args.port);
            std::process::exit(1);
        }
    };
    // Test harnesses read this first line to learn the URL.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", emu.url());
    let _ = out.flush();
    loop {
        std::thread::park();
    }
}
