//! `gemma-desk-cli` as scripts use it: flags, stdout, stderr and exit codes, against the emulator.

use gemma_desk_e2e::emulator::{Emulator, Reply};
use gemma_desk_e2e::{cli, emulator_with_gemma4, fixture, free_port};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Output, Stdio};

fn run(args: &[&str], emu: &Emulator) -> Output {
    cli().arg("--host").arg(emu.url()).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn chat_requests(emu: &Emulator) -> Vec<Value> {
    emu.requests_to("/api/chat").into_iter().map(|r| r.body).collect()
}

#[test]
fn models_lists_names_sizes_and_capabilities() {
    let emu = Emulator::start();
    let out = run(&["models"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text.lines().find(|l| l.starts_with("gemma3:4b")).expect("gemma3:4b listed");
    assert!(line.contains("3.3 GB") && line.contains("vision"), "{line}");
    let small = text.lines().find(|l| l.starts_with("gemma3:1b")).unwrap();
    assert!(!small.contains("vision"), "{small}");
}

#[test]
fn models_json_has_exactly_the_documented_fields() {
    let emu = Emulator::start();
    let out = run(&["models", "--json"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!list.is_empty());
    for m in &list {
        let mut keys: Vec<_> = m.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["capabilities", "name", "remote_host", "size"]);
    }
    let g = list.iter().find(|m| m["name"] == "gemma3:4b").unwrap();
    assert_eq!(g["capabilities"], json!(["completion", "vision"]));
    assert_eq!(g["size"], 3338801804u64);
}

#[test]
fn chat_streams_the_answer_and_sends_a_clean_request() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Hel", "lo, ", "world", "!"]));
    let out = run(&["chat", "Say hello"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello, world!\n");
    let reqs = emu.requests_to("/api/chat");
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    // Defaults to an installed Gemma 3, streams, and carries no Origin (Ollama's CORS check).
    assert_eq!(r.body["model"], "gemma3:4b");
    assert_eq!(r.body["stream"], true);
    assert_eq!(r.body["messages"], json!([{"role": "user", "content": "Say hello"}]));
    assert!(!r.headers.contains_key("origin"), "{:?}", r.headers);
}

#[test]
fn chat_reads_the_prompt_from_stdin_and_takes_a_system_prompt() {
    let emu = Emulator::start();
    let mut child = cli()
        .args(["--host", &emu.url(), "--model", "gemma3:1b", "chat", "--system", "Be brief."])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("你好，\n世界".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = &chat_requests(&emu)[0];
    assert_eq!(body["model"], "gemma3:1b");
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "你好，\n世界"}])
    );
    assert!(stdout(&out).contains("你好"), "the emulator echoes the prompt: {}", stdout(&out));
}

#[test]
fn chat_json_prints_one_object() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["4", "2"]));
    let out = run(&["chat", "--json", "6*7?"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("exactly one JSON object on stdout");
    assert_eq!(v, json!({"answer": "42", "model": "gemma3:4b", "steps": [], "rounds": 1, "thinking": []}));
}

#[test]
fn ollama_host_is_honoured_and_parsed_like_ollama() {
    let emu = Emulator::start();
    // No scheme: http is assumed, as Ollama does.
    let out =
        cli().env("OLLAMA_HOST", format!("127.0.0.1:{}", emu.port())).args(["models", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // --host wins over OLLAMA_HOST.
    let out = cli()
        .env("OLLAMA_HOST", format!("127.0.0.1:{}", free_port()))
        .args(["--host", &emu.url(), "models"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn unreachable_server_exits_3_with_a_hint() {
    let port = free_port();
    let out = cli().args(["--host", &format!("127.0.0.1:{port}"), "chat", "hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.starts_with("error: cannot reach Ollama at http://127.0.0.1:"), "{err}");
    assert!(err.lines().nth(1).unwrap().starts_with("hint: "), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn errors_speak_chinese_to_a_chinese_terminal() {
    let port = free_port();
    let out =
        cli().env("LANG", "zh_CN.UTF-8").args(["--host", &format!("127.0.0.1:{port}"), "models"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("无法连接"), "{}", stderr(&out));
}

#[test]
fn missing_model_exits_4() {
    let emu = Emulator::start();
    let out = run(&["--model", "gemma9:99b", "chat", "hi"], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("\"gemma9:99b\" is not installed"), "{err}");
    assert!(err.contains("ollama pull gemma9:99b"), "{err}");
}

#[test]
fn images_to_a_text_only_model_are_refused_before_sending() {
    let emu = Emulator::start();
    let img = std::env::temp_dir().join(format!("gd-cli-{}.png", std::process::id()));
    std::fs::write(&img, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let out = run(&["--model", "gemma3:1b", "chat", "--image", img.to_str().unwrap(), "what is it?"], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot see images"), "{}", stderr(&out));
    assert!(chat_requests(&emu).is_empty(), "nothing may be sent to a model that cannot see");
    let _ = std::fs::remove_file(img);
}

#[test]
fn an_image_goes_to_a_vision_model_with_a_default_prompt() {
    let emu = Emulator::start();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/images/cat.jpg");
    let bytes = std::fs::read(&fixture).expect("the shared image fixtures");
    let out = run(&["chat", "--image", fixture.to_str().unwrap()], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = &chat_requests(&emu)[0];
    assert_eq!(body["model"], "gemma3:4b");
    let msg = &body["messages"][0];
    assert_eq!(msg["content"], "Describe this image.");
    let sent = msg["images"][0].as_str().unwrap();
    assert!(!sent.starts_with("data:"));
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(sent).unwrap();
    assert_eq!(&decoded[..3], &bytes[..3], "a JPEG went out");
}

#[test]
fn unreadable_image_exits_5() {
    let emu = Emulator::start();
    let out = run(&["chat", "--image", "/nonexistent/photo.jpg", "hi"], &emu);
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr(&out).starts_with("error: /nonexistent/photo.jpg: "), "{}", stderr(&out));
    let empty = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/images/empty.jpg");
    let out = run(&["chat", "--image", empty.to_str().unwrap(), "hi"], &emu);
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    assert!(chat_requests(&emu).is_empty());
}

#[test]
fn http_errors_are_reported_with_ollamas_message() {
    let emu = Emulator::start();
    emu.push_reply(Reply::default().status(500, "model runner has unexpectedly stopped"));
    let out = run(&["chat", "hi"], &emu);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("500: model runner has unexpectedly stopped"), "{}", stderr(&out));
    assert!(stderr(&out).contains("hint: "), "{}", stderr(&out));

    emu.push_reply(Reply::default().status(503, "server busy, please try again.  maximum pending requests exceeded"));
    let out = run(&["chat", "hi"], &emu);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: Ollama is busy"), "{}", stderr(&out));
}

#[test]
fn an_error_line_mid_stream_keeps_the_partial_answer() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Part ", "one"]).error_after(2, "an error was encountered while running the model"));
    let out = run(&["chat", "hi"], &emu);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "Part one\n");
    assert!(stderr(&out).contains("an error was encountered while running the model"), "{}", stderr(&out));
}

#[test]
fn a_cut_connection_is_an_error_not_an_answer() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Half ", "an ", "answer"]).delay_ms(30).cut_after(2));
    let out = run(&["chat", "hi"], &emu);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Half an \n");
    assert!(stderr(&out).contains("cut before the answer was complete"), "{}", stderr(&out));
}

#[test]
fn a_stalled_server_times_out() {
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["Thinking", " more"]).stall_after(1));
    let out = cli().env("GEMMA_DESK_STALL_SECS", "1").args(["--host", &emu.url(), "chat", "hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "Thinking\n");
    assert!(stderr(&out).contains("sent nothing for 1 s"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let emu = Emulator::start();
    assert_eq!(run(&[], &emu).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"], &emu).status.code(), Some(2));
    let out = run(&["chat"], &emu); // stdin is empty
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: no prompt"), "{}", stderr(&out));
    assert_eq!(run(&["--api", "nonsense", "models"], &emu).status.code(), Some(2));
    assert!(chat_requests(&emu).is_empty());
}

#[test]
fn tool_runs_locally_and_prints_the_observation() {
    // No server is needed (none is running at the default address).
    let out = cli().args(["tool", "weekday", r#"{"year": 2025, "month": 3, "day": 14}"#]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "March 14, 2025 is Friday.\n");
    let out = cli()
        .args([
            "tool",
            "localtime_to_timestamp",
            r#"{"localtime": "2024-01-01 00:00:00", "timezone": "Asia/Shanghai"}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "1704038400\n");
    let out = cli()
        .env("TZ", "America/New_York")
        .args(["tool", "timestamp_to_localtime", r#"{"timestamp": 0}"#])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "1969-12-31 19:00:00\n", "the computer's zone (TZ) is the default");
}

#[test]
fn tool_errors_are_observations_and_unknown_tools_are_usage_errors() {
    let out = cli().args(["tool", "weekday", r#"{"year": 2023, "month": 2, "day": 29}"#]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("error: "), "{}", stdout(&out));
    let out = cli().args(["tool", "get_time"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: unknown tool \"get_time\"") && err.contains("timezone_conversion"), "{err}");
}

#[test]
fn chat_with_time_tools_streams_the_answer_and_traces_steps_on_stderr() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(
        "Thought: weekday needed.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2024, \"month\": 2, \"day\": 29}}\n```\n",
    ));
    emu.push_reply(Reply::chunks(&["Final Answer: ", "Thursday."]));
    let out = run(&["chat", "--tools", "time", "2024年2月29日星期几？"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Thursday.\n");
    assert!(stderr(&out).contains("February 29, 2024 is Thursday."), "{}", stderr(&out));
}

#[test]
fn chat_with_time_tools_json_lists_the_steps() {
    let emu = Emulator::start();
    for _ in 0..10 {
        emu.push_reply(Reply::text(
            "Action: {\"action\": \"current_time\", \"action_input\": {\"timezone\": \"UTC\"}}",
        ));
    }
    let out = run(&["chat", "--tools", "time", "--max-steps", "2", "--json", "现在几点？"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for s in steps {
        let mut keys: Vec<_> = s.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["input", "observation", "thought", "tool"]);
    }
    assert_eq!(steps[0]["tool"], "current_time");
    assert!(v["rounds"].as_u64().unwrap() <= 4);
    assert_eq!(v["model"], "gemma3:4b");
    assert!(v["answer"].as_str().unwrap().contains("2 tool calls"), "{v}");
}

#[test]
fn image_prepares_upright_and_right_sized() {
    let out = cli().args(["image", "--json", &fixture("cat-exif-orientation-6.jpg")]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["width"].as_u64(), v["height"].as_u64(), v["orientation"].as_u64()), (Some(451), Some(300), Some(6)));
    assert_eq!(v["format"], "jpeg");
    for key in ["source_width", "source_height", "bytes", "base64_len", "ms"] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.jpg");
    let out = cli()
        .args(["image", "--max-side", "300", "--out", dest.to_str().unwrap(), &fixture("coffee-12mp.jpg")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read(&dest).unwrap();
    assert_eq!(&written[..2], b"\xff\xd8", "a JPEG was written");
    assert!(stdout(&out).contains("300×225"), "{}", stdout(&out));
}

#[test]
fn image_refuses_bad_files_with_exit_5() {
    for (name, says) in [
        ("empty.jpg", "empty"),
        ("not-an-image.jpg", "not an image"),
        ("vector.svg", "SVG"),
        ("bomb-40000x40000.png", "40000"),
        ("truncated.jpg", "truncated"),
    ] {
        let out = cli().args(["image", &fixture(name)]).output().unwrap();
        assert_eq!(out.status.code(), Some(5), "{name}");
        let err = stderr(&out);
        assert!(err.starts_with("error: ") && err.contains(name) && err.contains(says), "{name}: {err}");
    }
}

#[test]
fn bad_files_are_explained_in_chinese_for_chinese_users() {
    for (name, says) in [
        ("empty.jpg", "文件是空的"),
        ("not-an-image.jpg", "不是图片"),
        ("vector.svg", "不支持 SVG"),
        ("bomb-40000x40000.png", "图片太大（40000×40000 像素"),
        ("truncated.jpg", "文件不完整"),
    ] {
        let out = cli().env("LANG", "zh_CN.UTF-8").args(["image", &fixture(name)]).output().unwrap();
        assert_eq!(out.status.code(), Some(5), "{name}");
        let err = stderr(&out);
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
    }
}

#[test]
fn chat_sends_photos_prepared_for_the_models_vision_size() {
    let emu = Emulator::start();
    let out = run(
        &["chat", "--image", &fixture("coffee-12mp.jpg"), "--image", &fixture("cat-exif-orientation-6.jpg"), "what?"],
        &emu,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = &chat_requests(&emu)[0];
    let images = body["messages"][0]["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    use base64::Engine;
    let first = base64::engine::general_purpose::STANDARD.decode(images[0].as_str().unwrap()).unwrap();
    // 4032×3024 shrunk to gemma3:4b's 896 (from /api/show), aspect kept: 896×672. Read the JPEG's SOF.
    let sof = first.windows(2).position(|w| w == [0xff, 0xc0] || w == [0xff, 0xc2]).expect("a JPEG frame header");
    let h = u16::from_be_bytes([first[sof + 5], first[sof + 6]]);
    let w = u16::from_be_bytes([first[sof + 7], first[sof + 8]]);
    assert_eq!((w, h), (896, 672));
}

/// A folder with two photos and one bad file, named so the natural order is clear.
fn photo_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("cat.jpg"), dir.path().join("IMG_2.jpg")).unwrap();
    std::fs::copy(fixture("empty.jpg"), dir.path().join("IMG_5.jpg")).unwrap();
    std::fs::copy(fixture("coffee.png"), dir.path().join("IMG_10.png")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a photo").unwrap();
    dir
}

#[test]
fn caption_a_folder_one_result_per_photo_in_order() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text("A tabby cat."));
    emu.push_reply(Reply::text("A cup of coffee, \"espresso\", on a table."));
    let dir = photo_folder();
    let out = run(&["caption", "--format", "jsonl", dir.path().to_str().unwrap()], &emu);
    assert_eq!(out.status.code(), Some(1), "one file failed: {}", stderr(&out));
    let rows: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let name = |v: &Value| {
        std::path::Path::new(v["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned()
    };
    assert_eq!(rows.iter().map(name).collect::<Vec<_>>(), ["IMG_2.jpg", "IMG_5.jpg", "IMG_10.png"]);
    assert_eq!(rows[0]["caption"], "A tabby cat.");
    assert!(rows[1].get("caption").is_none() && rows[1]["error"].as_str().unwrap().contains("empty"), "{}", rows[1]);
    assert_eq!(rows[2]["caption"], "A cup of coffee, \"espresso\", on a table.");
    let chats = chat_requests(&emu);
    assert_eq!(chats.len(), 2, "the bad file is not sent");
    assert_eq!(chats[0]["messages"][0]["content"], "Describe this image.");
    assert_eq!(chats[0]["messages"][0]["images"].as_array().unwrap().len(), 1);
}

#[test]
fn caption_csv_to_a_file_and_exit_codes() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Cat, \"tabby\"\nsecond line"));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("captions.csv");
    let out = run(
        &[
            "caption",
            "--prompt",
            "图片里有什么？",
            "--format",
            "csv",
            "--out",
            dest.to_str().unwrap(),
            &fixture("cat.jpg"),
        ],
        &emu,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let csv = std::fs::read_to_string(&dest).unwrap();
    assert_eq!(csv, format!("file,caption,error\n{},\"Cat, \"\"tabby\"\"\nsecond line\",\n", fixture("cat.jpg")));
    assert_eq!(chat_requests(&emu)[0]["messages"][0]["content"], "图片里有什么？");

    // None readable: exit 5, nothing sent.
    let out = run(&["caption", &fixture("empty.jpg"), &fixture("vector.svg")], &emu);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stdout(&out).contains("vector.svg: error: "), "{}", stdout(&out));
    assert_eq!(chat_requests(&emu).len(), 1);

    // A model that cannot see: exit 4 before anything is read or sent.
    let out = run(&["--model", "gemma3:1b", "caption", &fixture("cat.jpg")], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
}

#[test]
fn pull_shows_progress_on_stderr_and_installs() {
    let emu = Emulator::start();
    emu.set_pull_delay_ms(5);
    let out = run(&["pull", "gemma3:12b"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "stdout stays clean: {}", stdout(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "gemma3:12b, 8.1 GB, needs ~11 GB RAM, sees images", "{err}");
    // A line per phase, in order.
    let phases: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| ["pulling manifest", "downloading", "verifying sha256 digest", "writing manifest"].contains(l))
        .collect();
    assert_eq!(phases, ["pulling manifest", "downloading", "verifying sha256 digest", "writing manifest"], "{err}");
    // Not a terminal: plain lines, a handful of them, ending at the full size.
    assert!(!err.contains('\r'), "{err:?}");
    let percent: Vec<&str> = lines.iter().copied().filter(|l| l.contains('%')).collect();
    assert!((2..=11).contains(&percent.len()), "{percent:?}");
    assert!(percent.last().unwrap().trim_start().starts_with("100%  8.1 GB / 8.1 GB"), "{percent:?}");
    assert!(lines.last().unwrap().starts_with("gemma3:12b is ready: 8.1 GB downloaded in "), "{err}");

    let listed = run(&["models", "--json"], &emu);
    let list: Vec<Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list[0]["name"], "gemma3:12b", "installed, newest first");
}

#[test]
fn pull_names_what_a_gemma4_size_can_do_and_an_empty_list_suggests_one_for_this_machine() {
    let emu = Emulator::start();
    emu.set_models(vec![]);
    // Nothing installed: stdout's list stays empty, stderr names the catalogue's pick for this machine's memory.
    let pick = gemma_desk_core::models::recommended_here();
    let out = run(&["models", "--json"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "[]\n");
    let hint = format!(
        "no models installed; for this machine: gemma-desk-cli pull {} ({})",
        pick.name,
        pick.summary(gemma_desk_core::Lang::En)
    );
    assert_eq!(stderr(&out).trim_end(), hint);

    let out = run(&["pull", "gemma4:e4b"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.lines().next().unwrap(),
        "gemma4:e4b, 9.6 GB, needs ~12 GB RAM, sees images, hears, thinks, uses tools",
        "{err}"
    );
    let out = run(&["models"], &emu);
    assert!(stderr(&out).is_empty(), "installed now: no suggestion: {}", stderr(&out));
}

#[test]
fn pull_exit_codes_unknown_4_unreachable_3_failed_1() {
    let emu = Emulator::start();
    let out = run(&["pull", "gemma9:99b"], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: there is no model \"gemma9:99b\" to download"), "{err}");
    assert!(err.contains("hint: Check the name and tag"), "{err}");

    let out = cli().args(["--host", &format!("127.0.0.1:{}", free_port()), "pull", "gemma3:4b"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    emu.push_pull_reply(Reply::default().error_after(4, "max retries exceeded: unexpected EOF"));
    let out = run(&["pull", "gemma3:27b"], &emu);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: downloading \"gemma3:27b\" failed: max retries exceeded: unexpected EOF"), "{err}");
    assert!(err.contains("resumes"), "{err}");
    assert!(!stdout(&run(&["models"], &emu)).contains("gemma3:27b"));
}

#[test]
fn rm_and_show_installed_models() {
    let emu = Emulator::start();
    let out = run(&["show", "gemma3:4b", "--json"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["context_length"], 131072);
    assert_eq!(d["vision_image_size"], 896);
    assert_eq!(d["size"], 3338801804u64);
    assert_eq!(d["capabilities"], json!(["completion", "vision"]));
    let text = stdout(&run(&["show", "gemma3:1b"], &emu));
    assert!(text.starts_with("gemma3:1b\n"), "{text}");
    assert!(text.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["context", "length", "32768"]), "{text}");

    let out = run(&["rm", "gemma3:1b"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "deleted gemma3:1b\n");
    assert!(!stdout(&run(&["models"], &emu)).contains("gemma3:1b"));
    let out = run(&["delete", "gemma3:1b"], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not installed"), "{}", stderr(&out));
    assert_eq!(run(&["show", "gemma3:1b"], &emu).status.code(), Some(4));
}

// --api openai: the same commands against an OpenAI-compatible server (the emulator's /v1).

fn openai(emu: &Emulator, args: &[&str]) -> Output {
    cli()
        .env_remove("GEMMA_DESK_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .args(["--api", "openai", "--host", &format!("{}/v1", emu.url())])
        .args(args)
        .output()
        .unwrap()
}

fn v1_chat_requests(emu: &Emulator) -> Vec<Value> {
    emu.requests_to("/v1/chat/completions").into_iter().map(|r| r.body).collect()
}

#[test]
fn openai_models_and_a_streamed_chat() {
    let emu = Emulator::start();
    let out = openai(&emu, &["models"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let line = text.lines().find(|l| l.starts_with("gemma3:4b")).expect("gemma3:4b listed");
    assert!(line.contains("vision"), "the server is Ollama: capabilities come from /api/show: {line}");
    assert!(!stderr(&out).contains("guessed"), "{}", stderr(&out));
    let out = openai(&emu, &["models", "--json"]);
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys: Vec<_> = list[0].as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["capabilities", "name", "remote_host", "size"]);

    emu.push_reply(Reply::chunks(&["Hel", "lo, ", "world", "!"]));
    let out = openai(&emu, &["chat", "Say hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Hello, world!\n");
    let body = &v1_chat_requests(&emu)[0];
    assert_eq!(body["model"], "gemma3:4b");
    assert_eq!(body["stream"], true);
    assert_eq!(body["messages"], json!([{"role": "user", "content": "Say hello"}]));
    assert!(emu.requests_to("/api/chat").is_empty(), "nothing through the native API");
}

#[test]
fn openai_address_without_a_path_means_v1() {
    let emu = Emulator::start();
    let out = cli()
        .env_remove("GEMMA_DESK_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .args(["--api", "openai", "--host", &emu.url(), "--model", "gemma3:1b", "chat", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(v1_chat_requests(&emu).len(), 1);
}

#[test]
fn openai_api_key_from_the_flag_or_the_environment() {
    let emu = Emulator::start();
    emu.set_api_key(Some("sk-right".into()));
    let out = openai(&emu, &["models"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: the server answered 401: Incorrect API key provided"), "{err}");
    assert!(err.contains("hint: ") && err.contains("API key"), "{err}");
    let out = openai(&emu, &["--api-key", "sk-right", "models"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let with_env = |vars: &[(&str, &str)]| {
        let mut c = cli();
        c.env_remove("GEMMA_DESK_API_KEY").env_remove("OPENAI_API_KEY");
        for (k, v) in vars {
            c.env(k, v);
        }
        c.args(["--api", "openai", "--host", &format!("{}/v1", emu.url()), "models"]).output().unwrap()
    };
    assert_eq!(with_env(&[("OPENAI_API_KEY", "sk-right")]).status.code(), Some(0));
    assert_eq!(with_env(&[("GEMMA_DESK_API_KEY", "sk-right")]).status.code(), Some(0));
    let both = with_env(&[("GEMMA_DESK_API_KEY", "sk-right"), ("OPENAI_API_KEY", "sk-wrong")]);
    assert_eq!(both.status.code(), Some(0), "GEMMA_DESK_API_KEY comes first: {}", stderr(&both));
    for r in emu.requests().iter().filter(|r| r.header("authorization").is_some()) {
        assert!(r.header("authorization").unwrap().starts_with("Bearer sk-"), "{:?}", r.headers);
    }
    // Ollama's own API takes no key: saying one is a mistake worth hearing about.
    let out = cli().args(["--host", &emu.url(), "--api-key", "sk-right", "models"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--api openai"), "{}", stderr(&out));
}

#[test]
fn openai_errors_name_the_server_not_ollama() {
    let port = free_port();
    let out = cli()
        .args(["--api", "openai", "--host", &format!("http://127.0.0.1:{port}/v1"), "chat", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.starts_with(&format!("error: cannot reach the server at http://127.0.0.1:{port}/v1")), "{err}");
    assert!(!err.contains("Ollama"), "{err}");
    let emu = Emulator::start();
    let out = openai(&emu, &["--model", "gemma9:99b", "chat", "hi"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("\"gemma9:99b\" is not installed") && !err.contains("ollama pull"), "{err}");
    emu.push_reply(Reply::chunks(&["Half ", "an ", "answer"]).delay_ms(30).cut_after(2));
    let out = openai(&emu, &["chat", "hi"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "Half an \n");
    assert!(stderr(&out).contains("connection to the server was cut"), "{}", stderr(&out));
}

#[test]
fn openai_images_go_as_data_uris() {
    let emu = Emulator::start();
    let out = openai(&emu, &["chat", "--image", &fixture("cat.jpg")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let content = &v1_chat_requests(&emu)[0]["messages"][0]["content"];
    assert!(content[0]["image_url"]["url"].as_str().unwrap().starts_with("data:image/jpeg;base64,/9j/"), "{content}");
    assert_eq!(content[1], json!({"type": "text", "text": "Describe this image."}));
    // A model Ollama says is blind is refused before anything is sent.
    let out = openai(&emu, &["--model", "gemma3:1b", "chat", "--image", &fixture("cat.jpg"), "what is it?"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(v1_chat_requests(&emu).len(), 1);
    emu.push_reply(Reply::text("A cat on a sofa."));
    let out = openai(&emu, &["caption", "--format", "jsonl", &fixture("cat.jpg")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let row: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["caption"], "A cat on a sofa.");
    assert_eq!(v1_chat_requests(&emu).len(), 2);
}

#[test]
fn openai_time_tools_run_the_react_loop() {
    let emu = Emulator::start();
    emu.push_reply(Reply::text(
        "Thought: weekday needed.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2024, \"month\": 2, \"day\": 29}}\n```\n",
    ));
    emu.push_reply(Reply::chunks(&["Final Answer: ", "Thursday."]));
    let out = openai(&emu, &["chat", "--tools", "time", "2024年2月29日星期几？"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Thursday.\n");
    assert!(stderr(&out).contains("February 29, 2024 is Thursday."), "{}", stderr(&out));
    let bodies = v1_chat_requests(&emu);
    assert_eq!(bodies.len(), 2);
    let last = bodies[1]["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "user", "the observation comes as a user turn: {last}");
}

#[test]
fn models_say_where_cloud_models_run_and_merge_what_the_list_leaves_out() {
    let emu = emulator_with_gemma4();
    let out = run(&["models", "--json"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let by_name = |n: &str| list.iter().find(|m| m["name"] == n).unwrap().clone();
    assert_eq!(by_name("gemma3:4b")["remote_host"], Value::Null);
    assert_eq!(by_name("gemma4:31b-cloud")["remote_host"], "https://ollama.com:443");
    // /api/tags leaves vision and audio out for Gemma 4's GGUFs; /api/show has them.
    let caps = by_name("gemma4:e4b")["capabilities"].clone();
    for cap in ["completion", "vision", "audio", "tools", "thinking"] {
        assert!(caps.as_array().unwrap().contains(&json!(cap)), "{cap} in {caps}");
    }
    let text = stdout(&run(&["models"], &emu));
    let line = text.lines().find(|l| l.starts_with("gemma4:31b-cloud")).unwrap();
    assert!(line.contains("cloud: https://ollama.com:443"), "{line}");
}

#[test]
fn thinking_streams_to_stderr_and_json_keeps_every_round() {
    let emu = emulator_with_gemma4();
    emu.push_reply(Reply::text("Paris.").thinking("France, capital: Paris."));
    let out = run(&["--model", "gemma4:e4b", "chat", "Capital of France?"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Paris.\n", "stdout is the answer alone");
    assert!(stderr(&out).contains("France, capital: Paris."), "{}", stderr(&out));
    assert!(chat_requests(&emu)[0].get("think").is_none(), "auto sends no think");

    emu.push_reply(
        Reply::default()
            .thinking("Need the time.")
            .tool_calls(json!([{"function": {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}}])),
    );
    emu.push_reply(Reply::text("It is late in Tokyo.").thinking("Got it."));
    let out =
        run(&["--model", "gemma4:e4b", "chat", "--tools", "time", "--think", "high", "--json", "Tokyo time?"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["thinking"], json!(["Need the time.", "Got it."]));
    assert_eq!(v["steps"][0]["tool"], "current_time");
    assert_eq!(chat_requests(&emu).last().unwrap()["think"], "high");
}

#[test]
fn think_on_to_a_model_that_does_not_think_exits_4_before_sending() {
    let emu = emulator_with_gemma4();
    let out = run(&["--model", "gemma3:4b", "chat", "--think", "on", "hi"], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("think"), "{}", stderr(&out));
    assert!(chat_requests(&emu).is_empty(), "nothing sent");
    let out = run(&["--model", "gemma3:4b", "chat", "--think", "sometimes", "hi"], &emu);
    assert_eq!(out.status.code(), Some(2), "a value that is not a choice is a usage error");
}

/// The width and height of a base64 JPEG, from its frame header.
fn jpeg_size(b64: &str) -> (u32, u32) {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let sof = bytes.windows(2).position(|w| w == [0xff, 0xc0] || w == [0xff, 0xc2]).expect("a JPEG frame header");
    let h = u16::from_be_bytes([bytes[sof + 5], bytes[sof + 6]]);
    let w = u16::from_be_bytes([bytes[sof + 7], bytes[sof + 8]]);
    (u32::from(w), u32::from(h))
}

#[test]
fn gemma4_gets_photos_by_its_pixel_budget_and_high_detail_asks_for_more() {
    let emu = emulator_with_gemma4();
    let photo = fixture("coffee-12mp.jpg");
    let out = run(&["--model", "gemma4:e4b", "chat", "--image", &photo, "what?"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = &chat_requests(&emu)[0];
    let (w, h) = jpeg_size(body["messages"][0]["images"][0].as_str().unwrap());
    // 4032×3024 into 280 tokens of 48×48 px (645,120 px), aspect kept — not Gemma 3's 896 square.
    assert!(w * h <= 645_120 && w * h > 600_000 && (f64::from(w) / f64::from(h) - 4.0 / 3.0).abs() < 0.01, "{w}×{h}");
    assert!(body.get("options").is_none_or(|o| o.get("image_max_tokens").is_none()));

    let out = run(&["--model", "gemma4:e4b", "chat", "--detail", "high", "--image", &photo, "read the menu"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = &chat_requests(&emu)[1];
    let (w, h) = jpeg_size(body["messages"][0]["images"][0].as_str().unwrap());
    assert!(w * h <= 2_580_480 && w * h > 2_400_000, "{w}×{h}");
    assert_eq!(body["options"]["image_max_tokens"], 1120);
    // Gemma 3 keeps its square, whatever the detail.
    let out = run(&["--model", "gemma3:4b", "chat", "--detail", "high", "--image", &photo, "what?"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = &chat_requests(&emu)[2];
    assert_eq!(jpeg_size(body["messages"][0]["images"][0].as_str().unwrap()), (896, 672));
    assert!(body.get("options").is_none_or(|o| o.get("image_max_tokens").is_none()));
}

/// A clip from the repository's audio fixtures.
fn audio_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/audio").join(name);
    path.to_string_lossy().into_owned()
}

#[test]
fn audio_goes_to_a_model_that_hears_as_16_khz_mono_wav() {
    let emu = emulator_with_gemma4();
    let clip = audio_fixture("tone-440hz-44k1-stereo.mp3");
    let out = run(&["--model", "gemma4:e4b", "chat", "--audio", &clip, "What note is this?"], &emu);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sent = emu.requests_to("/api/chat").pop().unwrap();
    let audio: Vec<_> = sent.media.iter().filter(|m| m.kind == "audio").collect();
    assert_eq!(audio.len(), 1, "{:?}", sent.media);
    let a = audio[0];
    assert_eq!(
        (a.format.as_str(), a.sample_rate, a.channels, a.bits_per_sample),
        ("wav", Some(16_000), Some(1), Some(16))
    );
    assert!(a.duration_ms.is_some_and(|ms| ms > 500), "{a:?}");

    // Over an OpenAI-compatible server: an `input_audio` part.
    let out = openai(&emu, &["--model", "gemma4:e4b", "chat", "--audio", &clip, "What note?"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let body = v1_chat_requests(&emu).pop().unwrap();
    let parts = body["messages"][0]["content"].as_array().unwrap();
    let part = parts.iter().find(|p| p["type"] == "input_audio").expect("an input_audio part");
    assert_eq!(part["input_audio"]["format"], "wav");
    assert!(part["input_audio"]["data"].as_str().unwrap().starts_with("UklGR"), "a RIFF header");
}

#[test]
fn audio_is_refused_before_sending_to_a_deaf_model_or_when_too_long_or_unreadable() {
    let emu = emulator_with_gemma4();
    let clip = audio_fixture("tone-440hz-44k1-stereo.mp3");
    let out = run(&["--model", "gemma3:4b", "chat", "--audio", &clip, "hi"], &emu);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("gemma4:e4b"), "names the models that hear: {}", stderr(&out));
    let out = run(&["--model", "gemma4:e4b", "chat", "--audio", &audio_fixture("tone-440hz-31s.mp3"), "hi"], &emu);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("30 s"), "{}", stderr(&out));
    let out = run(&["--model", "gemma4:e4b", "chat", "--audio", &audio_fixture("truncated.flac"), "hi"], &emu);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(chat_requests(&emu).is_empty(), "nothing was sent");
}
