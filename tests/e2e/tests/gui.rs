//! The real app in its real webview: built binary, Xvfb, tauri-driver + WebKitWebDriver, an
//! isolated profile, and the Ollama emulator as the server. One app at a time (2-core CI).

use fantoccini::actions::InputSource;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use gemma_desk_e2e::emulator::{Emulator, ModelSpec, Reply};
use gemma_desk_e2e::{
    artifacts_dir, binary, emulator_with_gemma4, fixture, free_port, start_driver, Display, Proc, Profile,
};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

// Not poisoned by a failing test, and fine to hold across awaits.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct App {
    client: Client,
    profile: Profile,
    _driver: Proc,
    display: Display,
}

impl App {
    async fn launch(profile: Profile, ollama_host: &str) -> App {
        Self::launch_with(profile, ollama_host, &[]).await
    }

    /// Launch with more environment variables for the app (e.g. a D-Bus session).
    async fn launch_with(profile: Profile, ollama_host: &str, extra: &[(String, String)]) -> App {
        let display = Display::start();
        let mut env = profile.env();
        env.push(("OLLAMA_HOST".into(), ollama_host.into()));
        env.extend(extra.iter().cloned());
        let (driver, port) = start_driver(&display, &env);
        // The app built with `--features e2e` (see ./dev): it can be sent a file drop.
        let client = gemma_desk_e2e::webdriver_session(port, &binary("gemma-desk-e2e")).await;
        let app = App { client, profile, _driver: driver, display };
        app.wait("the page to load", Duration::from_secs(30), "return !!document.getElementById('status')").await;
        app
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect(script)
    }

    /// `call` (a function's source) applied to the page's own instance of the ES module `ui/<module>`: modules
    /// keep what they export off `window`, and a module imported again is the same instance the app uses.
    async fn js_module(&self, module: &str, call: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1]; \
             import('./{module}').then({call}).then(done, (e) => done('import failed: ' + e));"
        );
        self.client.execute_async(&script, vec![]).await.expect(&script)
    }

    /// Poll a script until it returns something truthy; that value is returned.
    async fn wait(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.js(script).await;
            let truthy = !matches!(v, Value::Null | Value::Bool(false)) && v != json!("") && v != json!(0);
            if truthy {
                return v;
            }
            if start.elapsed() > timeout {
                self.screenshot(&format!("timeout-{}", what.replace(' ', "-"))).await;
                panic!("timed out waiting for {what}; last value {v}");
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    async fn status(&self) -> (String, String) {
        let v = self.js("const s = document.getElementById('status'); return [s.dataset.state, document.getElementById('status-text').textContent]").await;
        (v[0].as_str().unwrap().to_string(), v[1].as_str().unwrap().to_string())
    }

    async fn wait_connected(&self) -> String {
        self.wait(
            "the connected status",
            Duration::from_secs(30),
            "return document.getElementById('status').dataset.state === 'connected'",
        )
        .await;
        self.status().await.1
    }

    async fn type_prompt(&self, text: &str) {
        let prompt = self.client.find(Locator::Css("#prompt")).await.unwrap();
        prompt.send_keys(text).await.unwrap();
    }

    async fn send(&self, text: &str) {
        self.type_prompt(&format!("{text}{}", char::from(Key::Enter))).await;
    }

    /// Press `key` with `modifiers` held, as a user does (it goes to whatever has focus).
    async fn press(&self, modifiers: &[Key], key: impl Into<char>) {
        self.try_press(modifiers, key).await.unwrap();
    }

    /// [`App::press`] for a key that may end the app (the WebDriver call then fails).
    async fn try_press(&self, modifiers: &[Key], key: impl Into<char>) -> Result<(), fantoccini::error::CmdError> {
        use fantoccini::actions::{KeyAction, KeyActions};
        let key = key.into();
        let mut a = KeyActions::new("keys".into());
        for m in modifiers {
            a = a.then(KeyAction::Down { value: (*m).into() });
        }
        a = a.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        for m in modifiers.iter().rev() {
            a = a.then(KeyAction::Up { value: (*m).into() });
        }
        self.client.perform_actions(a).await
    }

    /// The system clipboard's text on the app's display, once `ready` says it holds what is awaited.
    fn clipboard_when(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        gemma_desk_e2e::wait_until(Duration::from_secs(10), what, || {
            let out = std::process::Command::new("xclip")
                .args(["-o", "-selection", "clipboard", "-display", &self.display.name])
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            ready(&text).then_some(text)
        })
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    }

    /// The text of the last assistant message.
    async fn answer(&self) -> String {
        // Answers are rendered Markdown: the text of the paragraphs, without the markup's line breaks.
        self.js("const b = [...document.querySelectorAll('.msg.assistant .body')].pop(); return b ? b.textContent.trim() : ''")
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn streaming(&self) -> bool {
        self.js("return !!document.querySelector('.msg.assistant.streaming')").await == json!(true)
    }

    /// A screenshot of the real window, taken from the X display (WebKitWebDriver's own screenshots
    /// sometimes take half a minute here). Without a window manager the window sits at 0,0.
    async fn screenshot(&self, name: &str) {
        // Let the page paint what the DOM already shows.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let size = self.js("return [window.innerWidth, window.innerHeight]").await;
        let (w, h) = (size[0].as_u64().unwrap_or(1100), size[1].as_u64().unwrap_or(760));
        let path = artifacts_dir().join(format!("{name}.png"));
        let status = std::process::Command::new("import")
            .args(["-display", &self.display.name, "-window", "root", "-crop", &format!("{w}x{h}+0+0"), "+repage"])
            .arg(&path)
            .status();
        assert!(status.is_ok_and(|s| s.success()), "screenshot with ImageMagick's import failed");
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Quit the app (as a user closes it) and give back its profile, to start it again.
    async fn quit(self) -> Profile {
        let _ = self.client.close().await;
        drop(self._driver);
        self.profile
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_streams_answers_and_keeps_the_conversation() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.set_version("0.12.10");
    let words: Vec<String> = "Gemma Desk shows each token the moment Ollama sends it, so you can read along."
        .split_inclusive(' ')
        .map(str::to_string)
        .collect();
    let full: String = words.concat();
    emu.push_reply(Reply::chunks(&words.iter().map(String::as_str).collect::<Vec<_>>()).delay_ms(150));

    let app = App::launch(Profile::new(), &emu.url()).await;
    let status = app.wait_connected().await;
    assert_eq!(status, "Ollama 0.12.10 · 3 models");
    assert_eq!(app.js("return document.getElementById('model-select').value").await, "gemma3:4b");

    app.send("What does Gemma Desk do?").await;
    // Tokens appear while the answer is still being written...
    let partial = app
        .wait("a partial answer", Duration::from_secs(20), "const b = document.querySelector('.msg.assistant.streaming .body'); return b && b.textContent.trim().length > 0 ? b.textContent.trim() : null")
        .await;
    let partial = partial.as_str().unwrap().to_string();
    assert!(full.starts_with(&partial) && partial.len() < full.len(), "{partial:?}");
    assert!(
        app.js("return !document.getElementById('stop').hidden && document.getElementById('send').hidden").await
            == json!(true)
    );
    // ...and the whole answer stays when it is done.
    app.wait(
        "the answer to finish",
        Duration::from_secs(30),
        "return !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    assert_eq!(app.answer().await, full);
    assert_eq!(app.js("return document.getElementById('prompt').value").await, "");
    app.screenshot("chat-streamed").await;

    // A second turn carries the first as context.
    emu.push_reply(Reply::chunks(&["Yes", ", it does."]));
    app.send("Really?").await;
    app.wait("the second answer", Duration::from_secs(20), "return document.querySelectorAll('.msg.assistant').length === 2 && !document.querySelector('.msg.assistant.streaming')").await;
    assert_eq!(app.answer().await, "Yes, it does.");
    let chats = emu.requests_to("/api/chat");
    assert_eq!(chats.len(), 2);
    // (Time tools are on by default: their prompt comes first, as a system message.)
    let context: Vec<Value> =
        chats[1].body["messages"].as_array().unwrap().iter().filter(|m| m["role"] != "system").cloned().collect();
    assert_eq!(
        context,
        [
            json!({"role": "user", "content": "What does Gemma Desk do?"}),
            json!({"role": "assistant", "content": full}),
            json!({"role": "user", "content": "Really?"}),
        ]
    );
    assert!(emu.requests().iter().all(|r| !r.headers.contains_key("origin")), "the webview never calls Ollama itself");

    // An error mid-stream is shown in the conversation and the partial answer stays.
    emu.push_reply(
        Reply::chunks(&["Partial ", "answer"]).error_after(2, "an error was encountered while running the model"),
    );
    app.send("Third").await;
    let err = app
        .wait("the error", Duration::from_secs(20), "const e = [...document.querySelectorAll('.msg.assistant')].pop().querySelector('.error'); return e ? e.textContent : null")
        .await;
    assert!(err.as_str().unwrap().contains("an error was encountered while running the model"), "{err}");
    assert_eq!(app.answer().await, "Partial answer");

    // Shift+Enter is a new line, not a send.
    app.type_prompt(&format!("line one{}{}", char::from(Key::Shift), char::from(Key::Enter))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(emu.requests_to("/api/chat").len(), 3);
    assert_eq!(app.js("return document.getElementById('prompt').value").await, "line one\n");

    // The UI speaks Chinese too, and remembers the choice.
    app.click("#lang-toggle").await;
    app.wait(
        "Chinese status",
        Duration::from_secs(10),
        "return document.getElementById('status-text').textContent.includes('个模型')",
    )
    .await;
    assert_eq!(app.js("return document.getElementById('send').textContent").await, "发送");
    app.screenshot("chat-zh").await;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(app.profile.settings_file()).unwrap()).unwrap();
    assert_eq!(saved["language"], "zh");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_escape_cancel_a_slow_answer() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["slow "; 200]).delay_ms(150));
    emu.push_reply(Reply::chunks(&["slower "; 200]).delay_ms(150));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;

    for (round, how) in ["button", "escape"].iter().enumerate() {
        app.send(&format!("Tell me a long story ({how})")).await;
        app.wait(
            "some tokens",
            Duration::from_secs(20),
            "const b = document.querySelector('.msg.assistant.streaming .body'); return b && b.textContent.length > 10",
        )
        .await;
        if *how == "button" {
            app.click("#stop").await;
        } else {
            app.type_prompt(&char::from(Key::Escape).to_string()).await;
        }
        app.wait(
            "the stopped note",
            Duration::from_secs(10),
            &format!("return document.querySelectorAll('.note.stopped').length === {}", round + 1),
        )
        .await;
        assert!(!app.streaming().await);
        let kept = app.answer().await;
        assert!(!kept.is_empty(), "the partial answer stays");
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(app.answer().await, kept, "nothing arrives after Stop");
        // Ollama is told by the closed connection.
        let start = Instant::now();
        while !emu.requests_to("/api/chat")[round].client_disconnected {
            assert!(start.elapsed() < Duration::from_secs(5), "the request was not cancelled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(app.js("return document.getElementById('send').hidden").await, json!(false));
    }
    app.screenshot("chat-stopped").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_host_says_what_to_do_and_recovers_from_settings() {
    let _one = ONE_AT_A_TIME.lock().await;
    let port = free_port();
    let dead = format!("127.0.0.1:{port}");
    let app = App::launch(Profile::new(), &dead).await;
    app.wait(
        "the unreachable status",
        Duration::from_secs(30),
        "return document.getElementById('status').dataset.state === 'unreachable'",
    )
    .await;
    assert_eq!(app.status().await.1, "Ollama not reachable");
    let banner =
        app.js("const b = document.getElementById('unreachable'); return b.hidden ? null : b.textContent").await;
    let banner = banner.as_str().expect("the banner is shown");
    assert!(banner.contains(&format!("http://{dead}")), "{banner}");
    assert!(banner.contains("ollama serve"), "{banner}");
    app.screenshot("unreachable").await;

    // Ollama starts later at that address: the app notices by itself, no restart or click.
    let late = Emulator::start_on("127.0.0.1", port).expect("the port is still free");
    let status = app.wait_connected().await;
    assert!(status.starts_with("Ollama "), "{status}");
    assert!(app.js("return document.getElementById('unreachable').hidden").await == json!(true));
    drop(late);
    app.click("#status").await; // a click re-checks at once
    app.wait(
        "the unreachable status again",
        Duration::from_secs(15),
        "return document.getElementById('status').dataset.state === 'unreachable'",
    )
    .await;

    // Fix it in Settings: no restart needed.
    let emu = Emulator::start();
    app.click("#open-settings").await;
    app.wait("the settings dialog", Duration::from_secs(5), "return document.getElementById('settings').open").await;
    app.type_prompt_in("#host-input", &emu.url()).await;
    app.click("#host-save").await;
    let status = app.wait_connected().await;
    assert!(status.starts_with("Ollama "), "{status}");
    assert!(app.js("return document.getElementById('unreachable').hidden").await == json!(true));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(app.profile.settings_file()).unwrap()).unwrap();
    assert_eq!(saved["host"], emu.url());

    // A bad address is refused with a message, and the dialog stays open.
    app.click("#settings-btn").await;
    let input = app.client.find(Locator::Css("#host-input")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys("ftp://nowhere").await.unwrap();
    app.click("#host-save").await;
    let msg = app
        .wait(
            "the address error",
            Duration::from_secs(5),
            "return document.getElementById('settings-error').textContent",
        )
        .await;
    assert!(msg.as_str().unwrap().contains("http"), "{msg}");
    app.close().await;
}

impl App {
    /// Empty the sidebar's search box, as deleting its text does (the full list comes back).
    async fn clear_search(&self) {
        self.js(
            "const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); return 1",
        )
        .await;
    }

    async fn type_prompt_in(&self, css: &str, text: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap();
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_question_shows_the_tool_trace_and_the_answer() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::text(
        "Thought: I need the weekday of 2025-03-14.\nAction:\n```json\n{\"action\": \"weekday\", \"action_input\": {\"year\": 2025, \"month\": 3, \"day\": 14}}\n```\n",
    ));
    emu.push_reply(
        Reply::chunks(&["Thought: I can answer now.\n", "Final Answer: ", "2025年3月14日", "是星期五。"]).delay_ms(100),
    );
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    assert_eq!(app.js("return document.getElementById('tools-toggle').getAttribute('aria-pressed')").await, "true");

    app.send("2025-03-14 星期几？").await;
    app.wait(
        "the answer",
        Duration::from_secs(30),
        "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    assert_eq!(app.answer().await, "2025年3月14日是星期五。");
    let summary = app
        .js("const s = document.querySelector('.msg.assistant details.trace summary'); return s ? s.textContent : null")
        .await;
    assert_eq!(summary, "Used 1 tool");
    app.click(".msg.assistant details.trace summary").await;
    let trace = app.js("return document.querySelector('.msg.assistant details.trace').textContent").await;
    let trace = trace.as_str().unwrap();
    assert!(trace.contains("weekday") && trace.contains("March 14, 2025 is Friday."), "{trace}");
    app.screenshot("time-trace").await;

    // Switched off for this conversation: a plain chat, no tool prompt.
    app.click("#tools-toggle").await;
    emu.push_reply(Reply::text("Plain."));
    app.send("hi").await;
    app.wait("the plain answer", Duration::from_secs(20), "return document.querySelectorAll('.msg.assistant').length === 2 && !document.querySelector('.msg.assistant.streaming')").await;
    let last = emu.requests_to("/api/chat").pop().unwrap();
    assert_ne!(last.body["messages"][0]["role"], "system");
    assert!(last.body.get("options").is_none());
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_photos_show_thumbnails_and_get_captioned() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["A ", "tabby ", "cat ", "and ", "a ", "coffee."]).delay_ms(80));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;

    // The same path a real drop takes (Rust's drop handler), with one bad file among the photos.
    let paths = json!([fixture("cat-exif-orientation-6.jpg"), fixture("coffee-12mp.jpg"), fixture("truncated.jpg")]);
    app.client.execute("window.__TAURI__.core.invoke('e2e_drop', { paths: arguments[0] })", vec![paths]).await.unwrap();
    app.wait(
        "three thumbnails",
        Duration::from_secs(30),
        "return document.querySelectorAll('#attachments figure').length === 3",
    )
    .await;
    let good = app.js("return [...document.querySelectorAll('#attachments figure:not(.failed) img')].map(i => i.src.slice(0, 23))").await;
    assert_eq!(good, json!(["data:image/jpeg;base64,", "data:image/jpeg;base64,"]));
    let bad = app.js("return document.querySelector('#attachments figure.failed').textContent").await;
    assert!(bad.as_str().unwrap().contains("truncated.jpg"), "{bad}");
    app.screenshot("photos-attached").await;

    // A model that cannot see is refused before anything is sent, and the photos stay.
    app.js("const s = document.getElementById('model-select'); s.value = 'gemma3:1b'; s.dispatchEvent(new Event('change')); return true").await;
    app.click("#send").await;
    let refused = app
        .wait(
            "the vision refusal",
            Duration::from_secs(10),
            "const e = document.querySelector('.msg.refused .error'); return e ? e.textContent : null",
        )
        .await;
    assert!(
        refused.as_str().unwrap().contains("gemma3:1b cannot see images")
            && refused.as_str().unwrap().contains("gemma3:4b"),
        "{refused}"
    );
    assert!(emu.requests_to("/api/chat").is_empty());

    // With a vision model, an empty prompt sends the default caption request with both photos.
    app.js("const s = document.getElementById('model-select'); s.value = 'gemma3:4b'; s.dispatchEvent(new Event('change')); return true").await;
    app.click("#send").await;
    app.wait("the caption", Duration::from_secs(30), "const m = [...document.querySelectorAll('.msg.assistant')].pop(); return m && !m.classList.contains('streaming') && !m.classList.contains('refused') && m.querySelector('.body').textContent.length > 0").await;
    assert_eq!(app.answer().await, "A tabby cat and a coffee.");
    assert_eq!(app.js("return document.querySelectorAll('.msg.user .sent-thumbs img').length").await, 2);
    assert_eq!(app.js("return document.querySelectorAll('#attachments figure').length").await, 0);
    let chat = emu.requests_to("/api/chat").pop().unwrap();
    let user = chat.body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "user").unwrap().clone();
    assert_eq!(user["content"], "Describe this image.");
    let images = user["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert!(images.iter().all(|i| !i.as_str().unwrap().starts_with("data:")));
    app.screenshot("photos-captioned").await;

    // The photos are stored with the conversation: reopened, they are shown again from the store.
    app.click("#new-chat").await;
    app.click("#conversation-list .conv").await;
    let srcs = app
        .wait(
            "the stored photos",
            Duration::from_secs(10),
            "const i = [...document.querySelectorAll('.msg.user .sent-thumbs img')]; return i.length === 2 && i.every(x => x.src.startsWith('data:image/')) && i.map(x => x.src.length)",
        )
        .await;
    assert!(srcs.as_array().unwrap().iter().all(|n| n.as_u64().unwrap() > 1000), "{srcs}");
    assert_eq!(app.answer().await, "A tabby cat and a coffee.");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caption_all_queues_photos_survives_failures_retries_copies_and_exports() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    // One caption per request, in order; the second photo's answer fails mid-stream the first time.
    emu.push_reply(Reply::chunks(&["A tabby ", "cat on ", "a rug."]).delay_ms(60));
    emu.push_reply(Reply::chunks(&["A mug "]).error_after(1, "model runner has unexpectedly stopped"));
    emu.push_reply(Reply::chunks(&["A rocket ", "lifting off."]).delay_ms(60));
    emu.push_reply(Reply::chunks(&["A cup of ", "coffee."]).delay_ms(60));
    let profile = Profile::new();
    let exports = profile.exports_dir();
    let app = App::launch(profile, &emu.url()).await;
    app.wait_connected().await;

    let paths = json!([
        fixture("cat-exif-orientation-6.jpg"),
        fixture("coffee.png"),
        fixture("not-an-image.jpg"),
        fixture("rocket-progressive.jpg")
    ]);
    app.client.execute("window.__TAURI__.core.invoke('e2e_drop', { paths: arguments[0] })", vec![paths]).await.unwrap();
    app.wait(
        "four attachments",
        Duration::from_secs(30),
        "return document.querySelectorAll('#attachments figure').length === 4",
    )
    .await;
    assert_eq!(app.js("return document.getElementById('caption-all').textContent").await, json!("Caption all (4)"));
    app.click("#caption-all").await;

    let finished = "const b = document.querySelector('.msg.batch'); return b && b.classList.contains('finished') && [...b.querySelectorAll('.batch-row')].map(r => r.dataset.state)";
    let states = app.wait("the batch to finish", Duration::from_secs(60), finished).await;
    // The bad file fails at once, the failed answer is kept as an error, and the others go on.
    assert_eq!(states, json!(["done", "error", "error", "done"]));
    let rows = "return [...document.querySelectorAll('.batch-row')].map(r => [r.querySelector('.name').textContent, r.querySelector('.caption').textContent])";
    let shown = app.js(rows).await;
    assert_eq!(shown[0], json!(["cat-exif-orientation-6.jpg", "A tabby cat on a rug."]));
    assert!(shown[1][1].as_str().unwrap().contains("model runner has unexpectedly stopped"), "{shown}");
    assert!(shown[2][1].as_str().unwrap().contains("not an image"), "{shown}");
    assert_eq!(shown[3], json!(["rocket-progressive.jpg", "A rocket lifting off."]));
    assert_eq!(
        app.js("return document.querySelector('.batch-count').textContent").await,
        json!("2 of 4 captioned · 2 failed")
    );
    // Only readable photos were sent, each on its own with the default prompt.
    let chats = emu.requests_to("/api/chat");
    assert_eq!(chats.len(), 3);
    for c in &chats {
        let msgs = c.body["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 1, "no history in a batch: {msgs:?}");
        assert_eq!(msgs[0]["content"], "Describe this image.");
        assert_eq!(msgs[0]["images"].as_array().unwrap().len(), 1);
        assert!(c.body.get("tools").is_none());
    }

    // Retry failed: only the photo whose answer failed is sent again (the unreadable file cannot be).
    app.click(".batch-actions button[data-i18n='batch.retry']").await;
    let states = app
        .wait(
            "the retry to finish",
            Duration::from_secs(30),
            &format!("{finished}.join() === 'done,done,error,done' && true"),
        )
        .await;
    assert_eq!(states, json!(true));
    assert_eq!(emu.requests_to("/api/chat").len(), 4);
    assert_eq!(app.js(rows).await[1], json!(["coffee.png", "A cup of coffee."]));
    assert!(
        app.js("return document.querySelector('.batch-actions button[data-i18n=\"batch.retry\"]').hidden").await
            == json!(true)
    );
    app.screenshot("batch-finished").await;

    // Copy all puts every row on the system clipboard.
    app.click(".batch-actions button[data-i18n='batch.copyAll']").await;
    let clip = app.clipboard_when("the captions on the clipboard", |text| text.contains("rocket"));
    assert!(
        clip.starts_with("cat-exif-orientation-6.jpg: A tabby cat on a rug.\ncoffee.png: A cup of coffee.\n"),
        "{clip}"
    );
    assert!(clip.contains("not-an-image.jpg: error: "), "{clip}");

    // Export as CSV: one record per photo, in order, the error in its own column.
    app.click(".batch-actions button[data-format='csv']").await;
    app.wait(
        "the saved note",
        Duration::from_secs(10),
        "return document.querySelector('.batch-status').textContent.startsWith('Saved to ')",
    )
    .await;
    let csv = std::fs::read_to_string(exports.join("captions.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "file,caption,error");
    assert_eq!(lines[1], "cat-exif-orientation-6.jpg,A tabby cat on a rug.,");
    assert!(lines[3].starts_with("not-an-image.jpg,,not an image"), "{csv}");
    assert_eq!(lines.len(), 5, "{csv}");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_screenshot_is_attached_and_sent() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::chunks(&["A ", "screenshot."]));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;

    // A real clipboard on the app's X display, holding a PNG, as a screenshot tool leaves it.
    let png = std::fs::read(fixture("astronaut-transparent.png")).unwrap();
    let mut xclip = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-t", "image/png", "-i", "-display", &app.display.name])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("xclip");
    {
        use std::io::Write;
        xclip.stdin.take().unwrap().write_all(&png).unwrap();
    }
    let _ = xclip.wait();
    let prompt = app.client.find(Locator::Css("#prompt")).await.unwrap();
    prompt.click().await.unwrap();
    app.client
        .perform_actions(
            fantoccini::actions::KeyActions::new("keys".into())
                .then(fantoccini::actions::KeyAction::Down { value: Key::Control.into() })
                .then(fantoccini::actions::KeyAction::Down { value: 'v' })
                .then(fantoccini::actions::KeyAction::Up { value: 'v' })
                .then(fantoccini::actions::KeyAction::Up { value: Key::Control.into() }),
        )
        .await
        .unwrap();
    let src = app
        .wait(
            "the pasted thumbnail",
            Duration::from_secs(20),
            "const i = document.querySelector('#attachments figure:not(.failed) img'); return i && i.src.slice(0, 23)",
        )
        .await;
    assert_eq!(src, json!("data:image/jpeg;base64,"));
    app.click("#send").await;
    app.wait("the answer", Duration::from_secs(20), "const m = [...document.querySelectorAll('.msg.assistant')].pop(); return m && !m.classList.contains('streaming') && m.querySelector('.body').textContent").await;
    let chat = emu.requests_to("/api/chat").pop().unwrap();
    let user = chat.body["messages"].as_array().unwrap().iter().find(|m| m["role"] == "user").unwrap().clone();
    assert_eq!(user["content"], "Describe this image.");
    let image = user["images"][0].as_str().unwrap().to_string();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(image).unwrap();
    // Transparency was flattened and the photo prepared in Rust: a real image, not the raw clipboard bytes.
    assert!(bytes.starts_with(&[0x89, b'P', b'N', b'G']) || bytes.starts_with(&[0xFF, 0xD8]));
    assert_ne!(bytes, png);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_are_saved_searched_versioned_and_survive_a_restart() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    // Hostile model output: none of it may run or become a live link; the Markdown around it renders.
    let hostile = "# Plan\n\n<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">\n\n\
        [click](javascript:window.__pwned=3) and [docs](https://ollama.com)\n\n```rust\nfn main() {}\n```\n";
    emu.push_reply(Reply::text(hostile));
    emu.push_reply(Reply::chunks(&["现在", "是上午九点。"]));
    emu.push_reply(Reply::chunks(&["Second ", "version."]));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    let done = "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming') && !!document.querySelector('.msg.assistant .actions button')";

    app.send("Write a plan").await;
    app.wait("the first answer", Duration::from_secs(20), done).await;
    assert_eq!(app.js("return document.querySelector('.msg.assistant .body h1').textContent").await, json!("Plan"));
    assert_eq!(app.js("return window.__pwned === undefined").await, json!(true));
    assert_eq!(app.js("return document.querySelectorAll('.msg.assistant .body script, .msg.assistant .body img, .msg.assistant .body [onerror]').length").await, json!(0));
    let links = app
        .js("return [...document.querySelectorAll('.msg.assistant .body a')].map(a => a.getAttribute('href'))")
        .await;
    let links = links.as_array().unwrap();
    assert!(links.len() == 1 && links[0].as_str().unwrap().starts_with("https://ollama.com"), "{links:?}");
    assert!(app.js("return document.querySelector('.msg.assistant .body pre code') !== null").await == json!(true));

    // A second conversation, in Chinese.
    app.click("#new-chat").await;
    app.send("现在几点").await;
    app.wait("the Chinese answer", Duration::from_secs(20), done).await;
    app.wait(
        "two conversations listed",
        Duration::from_secs(10),
        "return document.querySelectorAll('#conversation-list .conv').length === 2",
    )
    .await;
    let titles = app
        .js("return [...document.querySelectorAll('#conversation-list .conv .title')].map(t => t.textContent)")
        .await;
    assert_eq!(titles, json!(["现在几点", "Write a plan"]), "newest first");

    // Regenerate: a second version; the first stays and can be shown again.
    app.click(".msg.assistant .actions button[data-i18n='msg.regenerate']").await;
    app.wait("the second version", Duration::from_secs(20), "return document.querySelector('.msg.assistant .ver-count') && document.querySelector('.msg.assistant .ver-count').textContent === '2/2' && !document.querySelector('.msg.assistant.streaming')").await;
    assert_eq!(app.answer().await, "Second version.");
    app.click(".msg.assistant .actions button[data-i18n='ver.prev']").await;
    app.wait(
        "the first version again",
        Duration::from_secs(10),
        "return document.querySelector('.msg.assistant .ver-count').textContent === '1/2'",
    )
    .await;
    assert_eq!(app.answer().await, "现在是上午九点。");

    // Search finds Chinese text of two characters.
    app.type_prompt_in("#search", "几点").await;
    app.wait(
        "one hit",
        Duration::from_secs(10),
        "return document.querySelectorAll('#conversation-list .conv').length === 1",
    )
    .await;
    app.clear_search().await;
    app.wait(
        "both listed again",
        Duration::from_secs(10),
        "return document.querySelectorAll('#conversation-list .conv').length === 2",
    )
    .await;

    // Rename the English one, and switch the UI to Chinese: both must survive a restart.
    app.js("document.querySelectorAll('#conversation-list .conv')[1].click(); return 1").await;
    app.wait(
        "the plan reopened",
        Duration::from_secs(10),
        "return document.getElementById('conv-title').textContent === 'Write a plan'",
    )
    .await;
    app.click("#conv-rename").await;
    app.js("document.getElementById('rename-input').value = 'Launch plan'; document.getElementById('rename-form').requestSubmit(); return 1").await;
    app.wait(
        "the new title",
        Duration::from_secs(10),
        "return document.getElementById('conv-title').textContent === 'Launch plan'",
    )
    .await;
    app.click("#lang-toggle").await;
    app.wait("Chinese", Duration::from_secs(10), "return document.getElementById('new-chat').textContent === '新对话'")
        .await;
    app.screenshot("conversations").await;

    let profile = app.quit().await;
    let app = App::launch(profile, &emu.url()).await;
    app.wait(
        "the saved conversations",
        Duration::from_secs(20),
        "return document.querySelectorAll('#conversation-list .conv').length === 2",
    )
    .await;
    assert_eq!(
        app.js("return document.getElementById('new-chat').textContent").await,
        json!("新对话"),
        "the language setting survived"
    );
    let titles = app
        .js("return [...document.querySelectorAll('#conversation-list .conv .title')].map(t => t.textContent)")
        .await;
    // Newest activity first: renaming is not activity.
    assert_eq!(titles, json!(["现在几点", "Launch plan"]));
    app.js("document.querySelectorAll('#conversation-list .conv')[0].click(); return 1").await;
    app.wait("the reopened answer", Duration::from_secs(10), "return document.querySelector('.msg.assistant .ver-count') && document.querySelector('.msg.assistant .ver-count').textContent === '1/2'").await;
    assert_eq!(app.answer().await, "现在是上午九点。");

    // Delete, confirmed: gone from the list, and gone after a restart.
    app.click("#conv-delete").await;
    app.click("#confirm-delete-ok").await;
    app.wait(
        "one conversation left",
        Duration::from_secs(10),
        "return document.querySelectorAll('#conversation-list .conv').length === 1",
    )
    .await;
    let profile = app.quit().await;
    let app = App::launch(profile, &emu.url()).await;
    app.wait(
        "the remaining conversation",
        Duration::from_secs(20),
        "return document.querySelectorAll('#conversation-list .conv').length === 1",
    )
    .await;
    assert_eq!(
        app.js("return document.querySelector('#conversation-list .conv .title').textContent").await,
        json!("Launch plan")
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_conversation_opens_at_its_end_and_earlier_messages_come_in_as_you_scroll_up() {
    use gemma_desk_core::store::{NewMessage, Store};
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    let profile = Profile::new();
    let n = 300;
    {
        let store = Store::open(profile.data_dir()).unwrap();
        let conv = store.create_conversation("A long one").unwrap();
        for i in 0..n / 2 {
            store.append(conv.id, NewMessage::user(format!("Question {i}: marker q{i:03}x"))).unwrap();
            let a = format!("Answer {i}.\n\n- one point\n- another\n\n```rust\nfn answer_{i}() {{}}\n```\n");
            store.append(conv.id, NewMessage::assistant(a, "gemma3:4b")).unwrap();
        }
    }
    let app = App::launch(profile, &emu.url()).await;
    app.wait_connected().await;
    app.wait(
        "the conversation listed",
        Duration::from_secs(10),
        "return document.querySelector('#conversation-list .conv')",
    )
    .await;
    app.click("#conversation-list .conv").await;
    let count = "return document.querySelectorAll('#messages .msg').length";
    app.wait("the last answer", Duration::from_secs(20), &format!("return [...document.querySelectorAll('#messages .msg.assistant .body')].pop()?.textContent.startsWith('Answer {}.')", n / 2 - 1)).await;
    // It opens at its end, with only the newest messages in the page.
    let shown = app.js(count).await.as_u64().unwrap();
    assert!((10..100).contains(&shown), "{shown} of {n} messages in the page");
    let at_bottom = app
        .js("const m = document.getElementById('messages'); return m.scrollHeight - m.scrollTop - m.clientHeight")
        .await;
    assert!(at_bottom.as_f64().unwrap() < 2.0, "opened {at_bottom} px above the end");
    let earlier = app.js("const b = document.getElementById('earlier'); return b.hidden ? null : b.textContent").await;
    assert_eq!(earlier, json!(format!("Show earlier messages ({})", n as u64 - shown)));
    app.screenshot("long-conversation-opened").await;

    // Scrolling to the top brings earlier messages in above, and what was on screen stays where it was.
    let mut before = shown;
    while before < n as u64 {
        app.js("const m = document.getElementById('messages'); m.scrollTop = 0; const f = m.querySelector('.msg'); window.__anchor = [f, f.getBoundingClientRect().top]; return 1").await;
        let now = app
            .wait(
                "earlier messages",
                Duration::from_secs(10),
                &format!("const c = document.querySelectorAll('#messages .msg').length; return c > {before} ? c : 0"),
            )
            .await;
        let moved = app.js("const [f, top] = window.__anchor; return f.getBoundingClientRect().top - top").await;
        assert!(moved.as_f64().unwrap().abs() < 2.0, "the message in view moved by {moved} px");
        before = now.as_u64().unwrap();
    }
    assert_eq!(before, n as u64);
    assert_eq!(
        app.js("return document.querySelector('#messages .msg .body').textContent").await,
        json!("Question 0: marker q000x")
    );
    assert_eq!(app.js("return document.getElementById('earlier').hidden").await, json!(true));

    // A search hit far up opens with that message in the page, marked.
    app.type_prompt_in("#search", "q007x").await;
    app.wait("one hit", Duration::from_secs(10), "const c = document.querySelectorAll('#conversation-list .conv'); return c.length === 1 && !!c[0].querySelector('.snippet')").await;
    app.click("#conversation-list .conv").await;
    app.wait("the hit in view", Duration::from_secs(10), "const h = document.querySelector('#messages .msg.hit'); if (!h) return false; const r = h.getBoundingClientRect(), m = document.getElementById('messages').getBoundingClientRect(); return h.textContent.includes('q007x') && r.top >= m.top && r.bottom <= m.bottom").await;
    app.screenshot("long-conversation-search-hit").await;

    // The button does the same for keyboard users.
    app.clear_search().await;
    app.wait(
        "the list back",
        Duration::from_secs(10),
        "return !document.querySelector('#conversation-list .conv .snippet')",
    )
    .await;
    app.click("#conversation-list .conv").await;
    app.wait(
        "the last page",
        Duration::from_secs(10),
        &format!("return document.querySelectorAll('#messages .msg').length === {shown}"),
    )
    .await;
    app.js("document.getElementById('earlier').focus({ preventScroll: true }); return 1").await;
    app.press(&[], Key::Enter).await;
    app.wait(
        "a page more",
        Duration::from_secs(10),
        &format!("return document.querySelectorAll('#messages .msg').length > {shown}"),
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_vision_model_the_app_offers_the_model_for_this_machine_and_pulls_it_with_progress() {
    use gemma_desk_core::models::{recommended_here, recommended_model};
    use gemma_desk_core::{Capability, Lang};
    let _one = ONE_AT_A_TIME.lock().await;
    // The model recommended for this machine's memory, or gemma3:4b where that one cannot see.
    let pick = Some(recommended_here()).filter(|e| e.can(Capability::Vision)).unwrap_or_else(recommended_model);
    let name = pick.name;
    let emu = Emulator::start();
    // First run: only a text model installed.
    emu.set_models(vec![ModelSpec::gemma3_1b()]);
    emu.set_pull_delay_ms(120);
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    let offer = app.wait("the offer", Duration::from_secs(10), "const o = document.getElementById('vision-offer'); return !o.hidden && document.getElementById('vision-offer-text').textContent").await;
    assert!(offer.as_str().unwrap().contains(&pick.summary(Lang::En)), "{offer}");
    assert!(offer.as_str().unwrap().contains(" GB RAM, sees images"), "{offer}");

    app.click("#vision-offer-pull").await;
    // Progress while it downloads: a bar that moves, and bytes.
    let numbers = app
        .wait("pull progress", Duration::from_secs(20), "const n = document.getElementById('pull-numbers').textContent; return document.getElementById('pull-bar').value > 0 && n.includes(' / ') ? n : null")
        .await;
    assert!(numbers.as_str().unwrap().contains("GB"), "{numbers}");
    app.screenshot("pull-progress").await;
    app.wait(
        "the pull to finish",
        Duration::from_secs(60),
        &format!("return document.getElementById('pull-title').textContent === '{name} is ready'"),
    )
    .await;
    assert_eq!(emu.requests_to("/api/pull").len(), 1);
    assert_eq!(emu.requests_to("/api/pull")[0].body["model"], name);
    // The Models dialog it opened offers the catalogue, the pick for this machine's memory marked.
    let primary = app
        .js("return [...document.querySelectorAll('#model-offers button.primary')].map((b) => b.dataset.model)")
        .await;
    assert_eq!(primary, json!([recommended_here().name]));
    // The new model is listed, chosen-able, and the offer is gone.
    let row = format!("#models-list .model-row[data-name='{name}']");
    app.wait(
        &format!("{name} installed"),
        Duration::from_secs(10),
        &format!("return !!document.querySelector(\"{row}\")"),
    )
    .await;
    app.wait("the offer gone", Duration::from_secs(10), "return document.getElementById('vision-offer').hidden").await;

    // Details from /api/show agree with the catalogue: family and context window.
    app.click(&format!("{row} button[aria-expanded]")).await;
    let details = app
        .wait(
            "details",
            Duration::from_secs(10),
            &format!("const d = document.querySelector(\"{row} .model-details\"); return d && d.textContent"),
        )
        .await;
    let details = details.as_str().unwrap();
    let family = name.split(':').next().unwrap();
    // However the page's locale groups digits.
    let digits: String = details.chars().filter(|c| !matches!(c, ',' | '.' | ' ' | '\u{a0}' | '\u{202f}')).collect();
    assert!(details.contains(family) && digits.contains(&pick.context_length.to_string()), "{details}");

    // Delete asks first, then really deletes on the server.
    app.click("#models-list .model-row[data-name='gemma3:1b'] button.danger-text").await;
    app.click("#models-list .model-row[data-name='gemma3:1b'] .confirm button.danger").await;
    app.wait(
        "gemma3:1b gone",
        Duration::from_secs(10),
        "return !document.querySelector('#models-list .model-row[data-name=\"gemma3:1b\"]')",
    )
    .await;
    let deletes = emu.requests_to("/api/delete");
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].body["model"], "gemma3:1b");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_compatible_server_is_added_in_settings_used_for_chat_and_remembered() {
    let _one = ONE_AT_A_TIME.lock().await;
    let ollama = Emulator::start();
    // The "team server": another emulator, reached only through its OpenAI-compatible /v1.
    let team = Emulator::start();
    team.push_reply(Reply::chunks(&["Hello ", "from ", "the team server."]));
    let app = App::launch(Profile::new(), &ollama.url()).await;
    app.wait_connected().await;

    app.click("#settings-btn").await;
    app.wait(
        "the server list",
        Duration::from_secs(10),
        "return document.querySelectorAll('#server-list .server').length === 1",
    )
    .await;
    app.screenshot("settings-en").await;
    app.click("#add-server summary").await;
    app.type_prompt_in("#server-name", "Team vLLM").await;
    app.js("document.getElementById('server-kind').value = 'openai'; return 1").await;
    app.type_prompt_in("#server-url", &format!("{}/v1", team.url())).await;
    app.click("#server-add").await;
    app.wait(
        "two servers",
        Duration::from_secs(10),
        "return document.querySelectorAll('#server-list .server').length === 2",
    )
    .await;
    assert_eq!(
        app.js("return document.querySelector('#server-list .server input:checked').closest('.server').querySelector('strong').textContent").await,
        json!("Team vLLM"),
        "the added server is the one in use"
    );
    // Test: connects and counts the models over /v1.
    app.click("#server-list .server[data-id='team-vllm'] button").await;
    let result = app.wait("the test result", Duration::from_secs(10), "const r = document.querySelector('.server[data-id=\"team-vllm\"] .server-result').textContent; return r.startsWith('Connected') ? r : null").await;
    assert_eq!(result, json!("Connected: 3 models"));
    app.click("#settings-cancel").await;

    let status = app.wait("connected to the team server", Duration::from_secs(20), "const t = document.getElementById('status-text').textContent; return document.getElementById('status').dataset.state === 'connected' && t.includes('/v1') ? t : null").await;
    assert!(status.as_str().unwrap().contains("3 models"), "{status}");
    app.send("Hi").await;
    app.wait("the answer", Duration::from_secs(20), "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming') && document.querySelector('.msg.assistant .body').textContent.trim().length > 0").await;
    assert_eq!(app.answer().await, "Hello from the team server.");
    assert_eq!(team.requests_to("/v1/chat/completions").len(), 1);
    assert!(ollama.requests_to("/api/chat").is_empty() && ollama.requests_to("/v1/chat/completions").is_empty());

    // Chinese settings page, for the README; then the choice survives a restart.
    app.click("#lang-toggle").await;
    app.click("#settings-btn").await;
    app.wait("两个服务器", Duration::from_secs(10), "return document.querySelectorAll('#server-list .server').length === 2 && document.querySelector('#settings h3').textContent === '服务器'").await;
    app.screenshot("settings-zh").await;
    let profile = app.quit().await;
    let settings: Value = serde_json::from_str(&std::fs::read_to_string(profile.settings_file()).unwrap()).unwrap();
    assert_eq!(settings["default_server"], "team-vllm");
    assert!(!settings.to_string().contains("api_key\":\""), "no key in the file: {settings}");
    let app = App::launch(profile, &ollama.url()).await;
    app.wait(
        "the team server again",
        Duration::from_secs(20),
        "return document.getElementById('status-text').textContent.includes('/v1')",
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_for_a_model_go_with_every_request_to_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Short."));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    app.click("#settings-btn").await;
    app.wait(
        "the options",
        Duration::from_secs(10),
        "return document.getElementById('opts-title').textContent === 'Options for gemma3:4b'",
    )
    .await;
    // Out of range: refused, with what is allowed, and the dialog stays open.
    app.type_prompt_in("#opt-temperature", "7").await;
    app.click("#host-save").await;
    let error = app
        .wait("the refusal", Duration::from_secs(10), "return document.getElementById('settings-error').textContent")
        .await;
    assert!(error.as_str().unwrap().contains("between 0 and 2"), "{error}");
    app.type_prompt_in("#opt-system", "Answer in one word.").await;
    app.type_prompt_in("#opt-temperature", "0.3").await;
    app.type_prompt_in("#opt-ctx", "8192").await;
    app.type_prompt_in("#opt-keep", "10m").await;
    app.click("#host-save").await;
    app.wait("the dialog closed", Duration::from_secs(10), "return !document.getElementById('settings').open").await;
    app.click("#tools-toggle").await; // a plain chat: the request is exactly what the user set
    app.send("How was the launch?").await;
    app.wait(
        "the answer",
        Duration::from_secs(20),
        "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    let chat = emu.requests_to("/api/chat").pop().unwrap();
    assert_eq!(chat.body["options"]["temperature"].as_f64().map(|t| (t * 10.0).round()), Some(3.0));
    assert_eq!(chat.body["options"]["num_ctx"], 8192);
    assert_eq!(chat.body["keep_alive"], "10m");
    assert_eq!(chat.body["messages"][0], json!({"role": "system", "content": "Answer in one word."}));
    assert_eq!(chat.body["messages"][1]["content"], "How was the launch?");
    let settings: Value = serde_json::from_str(&std::fs::read_to_string(app.profile.settings_file()).unwrap()).unwrap();
    assert_eq!(settings["model_options"]["gemma3:4b"]["num_ctx"], 8192);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_and_resend_keeps_the_first_version_and_a_backup_brings_a_deleted_conversation_back() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Paris."));
    emu.push_reply(Reply::text("Rome."));
    let profile = Profile::new();
    let exports = profile.exports_dir();
    let app = App::launch(profile, &emu.url()).await;
    app.wait_connected().await;
    app.click("#tools-toggle").await;
    let done = "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming') && !!document.querySelector('.msg.assistant .actions button')";
    app.send("Capital of France?").await;
    app.wait("the first answer", Duration::from_secs(20), done).await;

    // Edit the question: a second version with its own answer; the first pair stays.
    app.click(".msg.user .actions button[data-i18n='msg.edit']").await;
    app.type_prompt_in(".msg.user .edit textarea", "Capital of Italy?").await;
    app.click(".msg.user .edit button.primary").await;
    app.wait("the edited version", Duration::from_secs(20), "return document.querySelector('.msg.user .ver-count') && document.querySelector('.msg.user .ver-count').textContent === '2/2' && !document.querySelector('.msg.assistant.streaming')").await;
    assert_eq!(app.answer().await, "Rome.");
    let last = emu.requests_to("/api/chat").pop().unwrap();
    let msgs = last.body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "the edited question replaces the first, not added after it: {msgs:?}");
    assert_eq!(msgs[0]["content"], "Capital of Italy?");
    app.click(".msg.user .actions button[data-i18n='ver.prev']").await;
    app.wait(
        "the first version",
        Duration::from_secs(10),
        "return document.querySelector('.msg.user .ver-count').textContent === '1/2'",
    )
    .await;
    assert_eq!(app.answer().await, "Paris.");

    // Back up everything, delete the conversation, import the backup: it is back, both versions too.
    app.click("#export-all").await;
    app.wait(
        "the backup saved",
        Duration::from_secs(10),
        "return document.getElementById('sidebar-status').textContent.startsWith('Saved to ')",
    )
    .await;
    assert!(exports.join("gemma-desk-conversations.json").exists());
    app.click("#conv-delete").await;
    app.click("#confirm-delete-ok").await;
    app.wait(
        "no conversations",
        Duration::from_secs(10),
        "return document.querySelectorAll('#conversation-list .conv').length === 0",
    )
    .await;
    app.click("#import").await;
    let note = app.wait("the import note", Duration::from_secs(10), "const t = document.getElementById('sidebar-status').textContent; return t.startsWith('Imported') ? t : null").await;
    assert_eq!(note, json!("Imported 1 conversations, 4 messages."));
    app.wait(
        "the conversation back",
        Duration::from_secs(10),
        "return document.querySelectorAll('#conversation-list .conv').length === 1",
    )
    .await;
    app.click("#conversation-list .conv").await;
    app.wait(
        "both versions back",
        Duration::from_secs(10),
        "const c = document.querySelector('.msg.user .ver-count'); return c && c.textContent.endsWith('/2')",
    )
    .await;
    // Importing the same file again adds nothing.
    app.click("#import").await;
    app.wait(
        "nothing added",
        Duration::from_secs(10),
        "return document.getElementById('sidebar-status').textContent === 'Imported 0 conversations, 0 messages.'",
    )
    .await;
    assert_eq!(app.js("return document.querySelectorAll('#conversation-list .conv').length").await, json!(1));
    app.close().await;
}

/// Every control's accessible name, as a screen reader would announce it (a simplified accname: aria-label,
/// aria-labelledby, <label>, the text of a button, title, placeholder). Returns the controls that have none.
const UNLABELLED: &str = r#"
const t = (s) => (s || '').replace(/\s+/g, ' ').trim();
const name = (el) => {
  if (t(el.getAttribute('aria-label'))) return t(el.getAttribute('aria-label'));
  const by = el.getAttribute('aria-labelledby');
  if (by) return t(by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent).join(' '));
  if (el.labels && el.labels.length) return t([...el.labels].map((l) => l.textContent).join(' '));
  if (['BUTTON', 'SUMMARY', 'A'].includes(el.tagName) && t(el.textContent)) return t(el.textContent);
  return t(el.title) || t(el.placeholder);
};
const controls = [...document.querySelectorAll('button, input, select, textarea, summary, a[href], dialog, pre[tabindex], [role=button]')];
return controls.filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 160));
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_control_is_labelled_and_reachable_by_keyboard_and_the_help_sheet_lists_the_shortcuts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Hello **there**."));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    app.send("hi").await;
    app.wait(
        "the answer and its actions",
        Duration::from_secs(20),
        "return !document.querySelector('.msg.assistant.streaming') && document.querySelectorAll('.msg.assistant .actions button').length > 0",
    )
    .await;

    // F1 opens the sheet, which lists every shortcut the app handles.
    app.press(&[], Key::F1).await;
    let rows = app
        .wait(
            "the shortcuts sheet",
            Duration::from_secs(5),
            "return document.getElementById('shortcuts-dialog').open && document.querySelectorAll('#shortcuts-list tr').length",
        )
        .await;
    assert_eq!(rows, app.js_module("help.js", "(help) => help.rows.length").await);
    let sheet = app.js("return document.getElementById('shortcuts-list').textContent").await;
    for needle in ["Ctrl+N", "New chat", "F1", "Ctrl+Q", "Quit", "Esc", "Alt+↑"] {
        assert!(sheet.as_str().unwrap().contains(needle), "{needle} missing from the sheet: {sheet}");
    }
    app.screenshot("shortcuts").await;
    app.press(&[], Key::Escape).await;
    app.wait("the sheet to close", Duration::from_secs(5), "return !document.getElementById('shortcuts-dialog').open")
        .await;

    // The shortcuts do what the sheet says.
    app.press(&[Key::Control], 'k').await;
    app.wait("search focused", Duration::from_secs(5), "return document.activeElement.id === 'search'").await;
    app.press(&[Key::Control], ',').await;
    app.wait("settings open", Duration::from_secs(5), "return document.getElementById('settings').open").await;
    app.press(&[], Key::Escape).await;
    app.wait("settings closed", Duration::from_secs(5), "return !document.getElementById('settings').open").await;
    app.press(&[Key::Control], 'm').await;
    app.wait("models open", Duration::from_secs(5), "return document.getElementById('models-dialog').open").await;
    app.press(&[], Key::Escape).await;
    app.wait("models closed", Duration::from_secs(5), "return !document.getElementById('models-dialog').open").await;
    app.press(&[Key::Control], 'n').await;
    app.wait("a new chat", Duration::from_secs(5), "return document.querySelectorAll('#messages .msg').length === 0")
        .await;
    app.press(&[Key::Alt], Key::Down).await;
    app.wait(
        "the conversation again, from the sidebar",
        Duration::from_secs(5),
        "return document.querySelectorAll('#messages .msg').length === 2 && !!document.querySelector('.conv[aria-current=true]')",
    )
    .await;
    app.press(&[Key::Control], 'l').await;
    app.wait("the message box focused", Duration::from_secs(5), "return document.activeElement.id === 'prompt'").await;

    // Tab alone reaches every control on screen, the message actions included.
    let visible = app
        .js("const els = [...document.querySelectorAll('button, input, select, textarea, summary, a[href]')]
               .filter((el) => !el.disabled && el.getClientRects().length && !el.closest('dialog:not([open])'));
             els.forEach((el, i) => el.dataset.probe = String(i));
             return els.length")
        .await
        .as_u64()
        .unwrap();
    assert!(visible >= 15, "only {visible} controls on screen?");
    app.js("document.activeElement && document.activeElement.blur()").await;
    let mut reached = std::collections::BTreeSet::new();
    for _ in 0..(visible + 10) {
        app.press(&[], Key::Tab).await;
        if let Some(p) = app.js("return document.activeElement.dataset.probe || null").await.as_str() {
            reached.insert(p.parse::<u64>().unwrap());
        }
    }
    let missed: Vec<Value> = (0..visible).filter(|i| !reached.contains(i)).map(|i| json!(i)).collect();
    if !missed.is_empty() {
        let what = app
            .js(&format!(
                "return {missed:?}.map((i) => document.querySelector(`[data-probe=\"${{i}}\"]`).outerHTML.slice(0, 120))"
            ))
            .await;
        panic!("Tab never reached: {what}");
    }

    // Every control has a name a screen reader can say: in the page and in every dialog.
    let unlabelled = app.js(UNLABELLED).await;
    assert_eq!(unlabelled, json!([]), "controls without an accessible name");
    app.close().await;
}

/// A session D-Bus of the test's own (the single-instance lock lives there on Linux).
fn session_bus() -> (Proc, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dbus-daemon is not installed (apt-get install dbus-daemon)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (Proc(child), line.trim().to_string())
}

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("xdotool").args(args).env("DISPLAY", display).output().expect("xdotool");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn app_windows(display: &str) -> Vec<String> {
    xdotool(display, &["search", "--onlyvisible", "--name", "^Gemma Desk$"]).lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_focuses_the_first_and_the_window_comes_back_where_it_was_left() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    let (_bus, address) = session_bus();
    let bus = vec![("DBUS_SESSION_BUS_ADDRESS".to_string(), address.clone())];
    let app = App::launch_with(Profile::new(), &emu.url(), &bus).await;
    app.wait_connected().await;
    let display = app.display.name.clone();
    let windows = app_windows(&display);
    assert_eq!(windows.len(), 1, "one window: {windows:?}");
    xdotool(&display, &["windowmove", &windows[0], "140", "90"]);
    xdotool(&display, &["windowsize", &windows[0], "900", "620"]);
    app.wait(
        "the window moved and resized",
        Duration::from_secs(10),
        "return window.innerWidth === 900 && window.innerHeight === 620 && window.screenX === 140",
    )
    .await;

    // A second launch (as from the menu again) hands over to the first and ends; still one window.
    let mut second = std::process::Command::new(binary("gemma-desk-e2e"));
    second
        .envs(app.profile.env())
        .envs(bus.clone())
        .env("DISPLAY", &display)
        .env("OLLAMA_HOST", emu.url())
        .env("GDK_BACKEND", "x11")
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut second = Proc(second.spawn().unwrap());
    let status = gemma_desk_e2e::wait_until(Duration::from_secs(20), "the second launch to end", || {
        second.0.try_wait().unwrap()
    });
    assert!(status.success(), "the second launch failed: {status:?}");
    assert_eq!(app_windows(&display).len(), 1, "still one window");
    let log_dir = app.profile.dir.path().join("data/app.gemmadesk.desktop/logs");
    gemma_desk_e2e::wait_until(Duration::from_secs(5), "the first instance to hear of the second", || {
        read_logs(&log_dir).contains("a second launch asked for the window").then_some(())
    });

    // Ctrl+Q quits (saving where the window was); the next start puts it back there.
    let _ = app.try_press(&[Key::Control], 'q').await;
    gemma_desk_e2e::wait_until(Duration::from_secs(15), "the window to close", || {
        app_windows(&display).is_empty().then_some(())
    });
    assert!(read_logs(&log_dir).contains("quit from the keyboard"));
    let profile = app.quit().await;
    let app = App::launch_with(profile, &emu.url(), &bus).await;
    let display = app.display.name.clone();
    let windows = app_windows(&display);
    assert_eq!(windows.len(), 1, "{windows:?}");
    let geometry = xdotool(&display, &["getwindowgeometry", &windows[0]]);
    assert!(geometry.contains("Position: 140,90"), "{geometry}");
    assert!(geometry.contains("Geometry: 900x620"), "{geometry}");
    app.close().await;
}

/// Everything in the app's log files.
fn read_logs(dir: &std::path::Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.iter().map(|f| std::fs::read_to_string(f).unwrap_or_default()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_about_box_names_the_licences_and_diagnostics_and_logs_leave_out_conversations_and_secrets() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::text("The secret word is MARMALADE-42."));
    let profile = Profile::new();
    // A second server whose address carries a password, and a system prompt: neither may leak.
    let settings = json!({
        "servers": [
            { "id": "local", "name": "Local", "kind": "ollama", "base_url": emu.url() },
            { "id": "team", "name": "Team", "kind": "openai", "base_url": "http://bob:hunter2@10.9.9.9:8000/v1", "has_api_key": true }
        ],
        "default_server": "local",
        "model_options": { "gemma3:4b": { "system_prompt": "Always mention KUMQUAT-7." } }
    });
    std::fs::create_dir_all(profile.settings_file().parent().unwrap()).unwrap();
    std::fs::write(profile.settings_file(), settings.to_string()).unwrap();
    let app = App::launch(profile, &emu.url()).await;
    app.wait_connected().await;
    app.send("Remember PINEAPPLE-17").await;
    app.wait("the answer", Duration::from_secs(20), "return !document.querySelector('.msg.assistant.streaming') && document.querySelectorAll('.msg.assistant').length === 1").await;

    // About, from the help sheet: version, licence, the model's own terms, the components.
    app.click("#help-btn").await;
    app.wait("the sheet", Duration::from_secs(5), "return document.getElementById('shortcuts-dialog').open").await;
    app.click("#shortcuts-about").await;
    app.wait(
        "the About box",
        Duration::from_secs(5),
        "return document.getElementById('about-dialog').open && document.getElementById('about-version').textContent",
    )
    .await;
    let about = app.js("return document.getElementById('about-dialog').textContent").await;
    let about = about.as_str().unwrap();
    for needle in [env!("CARGO_PKG_VERSION"), "MIT OR Apache-2.0", "Gemma Terms of Use", "not this app's terms"] {
        assert!(about.contains(needle), "{needle} missing from About: {about}");
    }
    let components =
        app.js("return [...document.querySelectorAll('#about-components li')].map((li) => li.textContent)").await;
    let components: Vec<&str> = components.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(components.len() > 100, "{} components", components.len());
    assert!(components.iter().any(|c| c.starts_with("tauri ") && c.contains("Apache-2.0")), "{components:?}");
    assert!(components.iter().any(|c| c.starts_with("KaTeX ")), "{components:?}");
    app.screenshot("about").await;

    // Copy diagnostics: shown in the box and put on the clipboard; useful, and nothing private.
    app.click("#diag-copy").await;
    let clip = app.clipboard_when("the diagnostics on the clipboard", |text| text.starts_with("Gemma Desk"));
    for needle in [
        concat!("Gemma Desk ", env!("CARGO_PKG_VERSION")),
        "WebView: ",
        "First paint: ",
        "Team: openai, http://10.9.9.9:8000/v1, API key in the keychain",
        "system prompt (25 characters)",
        "1 conversations, 2 messages",
        "first paint",
    ] {
        assert!(clip.contains(needle), "{needle} missing from the diagnostics:\n{clip}");
    }
    for secret in ["PINEAPPLE", "MARMALADE", "KUMQUAT", "hunter2", "bob"] {
        assert!(!clip.contains(secret), "{secret} leaked into the diagnostics:\n{clip}");
    }
    let shown = app.js("return document.getElementById('diag-text').textContent").await;
    assert_eq!(shown.as_str().unwrap().lines().next(), clip.lines().next(), "what is copied is what is shown");

    // The log file itself: what happened, not what was said.
    let logs = read_logs(&app.profile.dir.path().join("data/app.gemmadesk.desktop/logs"));
    assert!(logs.contains("starting") && logs.contains("first paint") && logs.contains("answer finished"), "{logs}");
    for secret in ["PINEAPPLE", "MARMALADE", "KUMQUAT", "hunter2"] {
        assert!(!logs.contains(secret), "{secret} leaked into the log:\n{logs}");
    }
    app.close().await;
}

impl App {
    /// Picks `model` in the model picker, as a user does.
    async fn pick_model(&self, model: &str) {
        let script = format!(
            "const s = document.getElementById('model-select'); s.value = {model:?}; \
             s.dispatchEvent(new Event('change')); return s.value"
        );
        assert_eq!(self.js(&script).await, model, "{model} is in the picker");
    }

    /// The last answer's thinking panel: [open, summary, text], or null.
    async fn thinking_panel(&self) -> Value {
        self.js(
            "const d = [...document.querySelectorAll('.msg.assistant')].pop()?.querySelector('details.thinking'); \
             return d ? [d.open, d.querySelector('summary').textContent, d.querySelector('.thinking-body').textContent.trim()] : null",
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gemma4_answer_shows_its_thinking_as_it_arrives_and_folds_it_away_when_the_answer_starts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = emulator_with_gemma4();
    // 400 ms between pieces: the panel must show the first piece before the second is sent.
    emu.push_reply(
        Reply::chunks(&["Paris ", "is the capital."])
            .thinking_chunks(&["The user asks ", "about France; ", "its capital is Paris."])
            .delay_ms(400),
    );
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    let shown = |id: &str| format!("return !document.getElementById('{id}').hidden");
    assert_eq!(app.js(&shown("think-select")).await, false, "gemma3:4b does not think: no Think control");
    app.pick_model("gemma4:e4b").await;
    assert_eq!(app.js(&shown("think-select")).await, true, "Gemma 4 thinks");
    assert_eq!(app.js(&shown("detail-select")).await, true, "Gemma 4 sees at a variable budget");
    let levels = app
        .js("return [...document.querySelectorAll('#think-select option')].filter(o => !o.hidden).map(o => o.value)")
        .await;
    assert_eq!(levels, json!(["auto", "off", "on"]), "Gemma 4 does not tell levels apart");
    app.click("#tools-toggle").await;

    app.send("Capital of France?").await;
    let first = app
        .wait("the first thinking", Duration::from_secs(20), "const d = document.querySelector('.msg.assistant details.thinking .thinking-body'); return d && d.textContent.trim()")
        .await;
    assert_eq!(first, "The user asks", "shown within one token interval of the first thinking token");
    let panel = app.thinking_panel().await;
    assert_eq!((panel[0].clone(), panel[1].clone()), (json!(true), json!("Thinking…")), "open while thinking");
    assert_eq!(app.answer().await, "", "no answer yet");
    app.screenshot("thinking-live").await;

    app.wait(
        "the answer",
        Duration::from_secs(20),
        "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    assert_eq!(app.answer().await, "Paris is the capital.");
    let panel = app.thinking_panel().await;
    assert_eq!(panel[0], false, "folded once the answer started");
    assert!(panel[1].as_str().unwrap().starts_with("Thought for "), "{panel}");
    app.click(".msg.assistant details.thinking summary").await;
    let panel = app.thinking_panel().await;
    assert_eq!(panel[0], true, "reopened");
    assert_eq!(panel[2], "The user asks about France; its capital is Paris.");
    app.screenshot("thinking").await;
    assert!(emu.requests_to("/api/chat")[0].body.get("think").is_none(), "Auto sends no think");

    // Off for this conversation: sent as `think: false`; the panel comes back with the conversation.
    app.js("const s = document.getElementById('think-select'); s.value = 'off'; s.dispatchEvent(new Event('change'))")
        .await;
    emu.push_reply(Reply::text("Berlin."));
    app.send("And Germany?").await;
    app.wait("the second answer", Duration::from_secs(20), "return document.querySelectorAll('.msg.assistant').length === 2 && !document.querySelector('.msg.assistant.streaming')").await;
    assert_eq!(emu.requests_to("/api/chat").pop().unwrap().body["think"], false);
    assert_eq!(app.js("return document.querySelectorAll('details.thinking').length").await, 1, "no thinking, no panel");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_question_with_gemma4_shows_its_thinking_the_native_call_and_the_answer() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = emulator_with_gemma4();
    emu.push_reply(
        Reply::default()
            .thinking("I need the time in Tokyo.")
            .tool_calls(json!([{"function": {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}}])),
    );
    emu.push_reply(Reply::text("It is evening in Tokyo.").thinking("Now I know it."));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    app.pick_model("gemma4:e4b").await;
    app.send("What time is it in Tokyo?").await;
    app.wait(
        "the answer",
        Duration::from_secs(30),
        "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    assert_eq!(app.answer().await, "It is evening in Tokyo.");
    let panel = app.thinking_panel().await;
    let thinking = panel[2].as_str().unwrap();
    assert!(thinking.contains("I need the time in Tokyo.") && thinking.contains("Now I know it."), "{thinking}");
    app.click(".msg.assistant details.trace summary").await;
    let trace = app.js("return document.querySelector('.msg.assistant details.trace').textContent").await;
    let trace = trace.as_str().unwrap();
    assert!(trace.contains("current_time") && trace.contains("Asia/Tokyo"), "{trace}");
    assert!(trace.contains("I need the time in Tokyo."), "the trace shows the thinking as the thought: {trace}");
    let second = emu.requests_to("/api/chat").pop().unwrap().body;
    assert!(second.get("tools").is_some(), "native tools, no ReAct prompt");
    let msgs = second["messages"].as_array().unwrap();
    let result = msgs.iter().find(|m| m["role"] == "tool").expect("the tool's result");
    let call = msgs.iter().find(|m| m["tool_calls"].is_array()).expect("the call");
    assert_eq!(result["tool_call_id"], call["tool_calls"][0]["id"]);
    app.screenshot("gemma4-time").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_model_is_marked_never_chosen_unasked_and_asks_once_before_a_conversation_goes_to_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = emulator_with_gemma4();
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    assert_eq!(app.js("return document.getElementById('model-select').value").await, "gemma3:4b");
    let label = app.js("return [...document.querySelectorAll('#model-select option')].find(o => o.value === 'gemma4:31b-cloud').textContent").await;
    assert!(label.as_str().unwrap().contains("cloud: ollama.com"), "{label}");
    app.pick_model("gemma4:31b-cloud").await;

    app.send("A private question").await;
    app.wait("the confirmation", Duration::from_secs(10), "return document.getElementById('cloud-confirm').open").await;
    let text = app.js("return document.getElementById('cloud-confirm-text').textContent").await;
    assert!(
        text.as_str().unwrap().contains("gemma4:31b-cloud") && text.as_str().unwrap().contains("ollama.com"),
        "{text}"
    );
    app.screenshot("cloud-confirm").await;
    app.click("#cloud-confirm button[value=cancel]").await;
    assert!(emu.requests_to("/api/chat").is_empty(), "nothing sent when the user says no");
    assert_eq!(
        app.js("return document.getElementById('prompt').value").await,
        "A private question",
        "the text is kept"
    );

    emu.push_reply(Reply::text("Answered in the cloud."));
    app.press(&[], Key::Enter).await;
    app.wait("the confirmation again", Duration::from_secs(10), "return document.getElementById('cloud-confirm').open")
        .await;
    app.click("#cloud-confirm-ok").await;
    app.wait(
        "the answer",
        Duration::from_secs(20),
        "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    assert_eq!(app.answer().await, "Answered in the cloud.");
    emu.push_reply(Reply::text("Again."));
    app.send("Another one").await;
    app.wait("the second answer", Duration::from_secs(20), "return document.querySelectorAll('.msg.assistant').length === 2 && !document.querySelector('.msg.assistant.streaming')").await;
    assert_eq!(
        app.js("return document.getElementById('cloud-confirm').open").await,
        false,
        "asked once per conversation"
    );
    assert_eq!(emu.requests_to("/api/chat").len(), 2);

    // Hidden from Settings: the picker no longer offers it.
    app.click("#settings-btn").await;
    app.screenshot("settings-cloud").await;
    app.click("#hide-cloud").await;
    app.click("#host-save").await;
    app.wait(
        "the cloud model hidden",
        Duration::from_secs(10),
        "return ![...document.querySelectorAll('#model-select option')].some(o => o.value === 'gemma4:31b-cloud')",
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audio_clip_is_attached_with_its_length_and_sent_to_a_model_that_hears() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = emulator_with_gemma4();
    emu.push_reply(Reply::text("That is an A (440 Hz)."));
    let clip = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/audio/tone-440hz-44k1-stereo.mp3");
    let clip = clip.canonicalize().unwrap().to_string_lossy().into_owned();
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    app.pick_model("gemma4:e4b").await;
    let drop = "window.__TAURI__.core.invoke('e2e_drop', { paths: arguments[0] })";
    app.client.execute(drop, vec![json!([clip])]).await.unwrap();
    let caption = app
        .wait("the clip", Duration::from_secs(30), "const f = document.querySelector('#attachments figure.clip:not(.failed)'); return f && f.querySelector('audio') && f.querySelector('figcaption').textContent")
        .await;
    assert!(caption.as_str().unwrap().contains("tone-440hz-44k1-stereo.mp3 · 0:0"), "its name and length: {caption}");
    app.screenshot("audio-attached").await;
    app.send("What note is this?").await;
    app.wait(
        "the answer",
        Duration::from_secs(30),
        "return document.querySelector('.msg.assistant') && !document.querySelector('.msg.assistant.streaming')",
    )
    .await;
    assert_eq!(app.answer().await, "That is an A (440 Hz).");
    let sent = emu.requests_to("/api/chat").pop().unwrap();
    let audio: Vec<_> = sent.media.iter().filter(|m| m.kind == "audio").collect();
    assert_eq!(audio.len(), 1, "{:?}", sent.media);
    assert_eq!((audio[0].format.as_str(), audio[0].sample_rate, audio[0].channels), ("wav", Some(16_000), Some(1)));
    assert_eq!(
        app.js("return !!document.querySelector('.msg.user .sent-thumbs audio')").await,
        true,
        "a player under the question"
    );
    app.screenshot("audio-question").await;

    // A model that cannot hear: refused at once, naming the one that can; nothing is read or sent.
    app.pick_model("gemma3:4b").await;
    app.client.execute(drop, vec![json!([clip])]).await.unwrap();
    let refused = app
        .wait(
            "the refusal",
            Duration::from_secs(30),
            "const f = document.querySelector('#attachments figure.failed'); return f && f.textContent",
        )
        .await;
    assert!(refused.as_str().unwrap().contains("gemma4:e4b"), "{refused}");
    assert_eq!(emu.requests_to("/api/chat").len(), 1);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_meter_warns_before_ollama_drops_messages_and_the_context_can_be_raised_from_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let emu = Emulator::start();
    emu.push_reply(Reply::text("Short answer."));
    let app = App::launch(Profile::new(), &emu.url()).await;
    app.wait_connected().await;
    app.click("#tools-toggle").await;
    assert_eq!(app.js("return document.getElementById('context-meter').hidden").await, true, "nothing to show yet");
    app.send("hi").await;
    app.wait("the meter", Duration::from_secs(20), "return !document.getElementById('context-meter').hidden").await;
    let text = app.js("return document.getElementById('context-text').textContent").await;
    assert!(text.as_str().unwrap().contains("of 4,096 tokens"), "Ollama's context in use (/api/ps): {text}");
    assert_eq!(app.js("return document.getElementById('context-meter').classList.contains('warn')").await, false);

    // A long paste: about 3,500 of the 4,096 tokens.
    emu.push_reply(Reply::text("Read it."));
    app.js("const p = document.getElementById('prompt'); p.value = 'word '.repeat(2800); return true").await;
    app.click("#send").await;
    app.wait(
        "the warning",
        Duration::from_secs(20),
        "return document.getElementById('context-meter').classList.contains('warn')",
    )
    .await;
    let text = app.js("return document.getElementById('context-text').textContent").await;
    assert!(text.as_str().unwrap().contains("drops the oldest messages"), "{text}");
    app.screenshot("context-full").await;
    assert_eq!(app.js("return document.getElementById('context-raise').textContent").await, "Raise to 8,192");
    app.click("#context-raise").await;
    emu.push_reply(Reply::text("Roomier."));
    app.send("and now?").await;
    app.wait("the third answer", Duration::from_secs(20), "return document.querySelectorAll('.msg.assistant').length === 3 && !document.querySelector('.msg.assistant.streaming')").await;
    assert_eq!(
        emu.requests_to("/api/chat").pop().unwrap().body["options"]["num_ctx"],
        8192,
        "raised for the next answer"
    );
    app.close().await;
}
