//! Model output as HTML that is safe to put in the webview.
//!
//! Model output is untrusted: a prompt injection (a web page, a photo's text) can make the model write
//! anything, and a script running in the webview could call the app's commands. So safety comes by
//! construction: we write the HTML ourselves from pulldown-cmark's events and emit only the elements in
//! [`ALLOWED`] — raw HTML shows as text, links keep an `href` only for `http` and `https`, and
//! images are never loaded (they become links: an image URL can track the reader). Then the result goes
//! through ammonia with the same allow-list, so a bug in the writer still cannot produce a script.
//!
//! Half-written Markdown (while an answer streams in) renders as CommonMark says: an unclosed code fence
//! runs to the end, a table appears once its delimiter row has arrived.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use url::Url;

/// Every element [`render`] can emit, with the attributes it may carry. Class values and attribute
/// values are restricted further (see [`allowed_class`] and the sanitiser below).
pub const ALLOWED: &[(&str, &[&str])] = &[
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

/// The only URL schemes a link may have (also what `open_link` accepts).
pub const LINK_SCHEMES: &[&str] = &["http", "https"];

/// What every link carries: the page it opens learns nothing about the app.
pub const LINK_REL: &str = "noopener noreferrer";

/// Whether `class` may appear on `tag`.
pub fn allowed_class(tag: &str, class: &str) -> bool {
    match tag {
        "code" => class.strip_prefix("language-").is_some_and(|l| !l.is_empty() && l.chars().all(lang_char)),
        _ => FIXED_CLASSES.iter().any(|(t, c)| *t == tag && *c == class),
    }
}

const FIXED_CLASSES: &[(&str, &str)] = &[
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

fn lang_char(c: char) -> bool {
    matches!(c, 'a'..='z' | '0'..='9' | '_' | '+' | '-')
}

/// Markdown (as a model writes it) to safe HTML for the chat view.
pub fn render(md: &str) -> String {
    SANITISER.clean(&write_html(md)).to_string()
}

/// The URL a link may point to, normalised (what the browser would resolve), or `None` if it is not an
/// absolute `http` or `https` URL (an e-mail address stays text: the app opens web pages, nothing else). Markdown has already decoded entities and escapes, and the
/// WHATWG parser drops the tabs, newlines and control characters that hide a `javascript:` scheme.
pub fn link_target(url: &str) -> Option<Url> {
    let url = Url::parse(url).ok()?;
    LINK_SCHEMES.contains(&url.scheme()).then_some(url)
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_MATH
}

/// Our HTML writer. Escapes exactly as html5ever serialises, so that ammonia's pass over the result is a
/// no-op for everything we write (a unit test checks this).
fn write_html(md: &str) -> String {
    let mut w = Writer { out: String::with_capacity(md.len() * 3 / 2), ..Writer::default() };
    for event in Parser::new_ext(md, options()) {
        w.event(event);
    }
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
    /// For each open link or image: whether we emitted an `<a>` for it (unsafe ones show as text).
    links: Vec<bool>,
    /// Where the open image's link text starts, to show the URL when the alt text is empty.
    image_text_start: Vec<(usize, String)>,
    aligns: Vec<Alignment>,
    cell: usize,
    in_head: bool,
    /// How many tags are open; past [`MAX_DEPTH`] only their text is written.
    depth: usize,
}

/// Real answers nest a handful of levels. Thousands of `>` would make a DOM so deep that parsing it
/// (ammonia's html5ever, then the webview) takes quadratic time: seconds to minutes.
const MAX_DEPTH: usize = 32;

impl Writer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                self.out.push_str("<code>");
                self.text(&t);
                self.out.push_str("</code>");
            }
            Event::InlineMath(t) => self.math("math-inline", &t),
            Event::DisplayMath(t) => self.math("math-display", &t),
            Event::Html(t) => self.text(&t),
            // Models often write `<br>` inside table cells, where Markdown has no line break: keep it.
            Event::InlineHtml(t) if is_br(&t) => self.out.push_str("<br>"),
            Event::InlineHtml(t) => self.text(&t),
            Event::FootnoteReference(t) => {
                self.text("[^");
                self.text(&t);
                self.text("]");
            }
            Event::SoftBreak => self.out.push('\n'),
            Event::HardBreak => self.out.push_str("<br>\n"),
            Event::Rule => self.out.push_str("<hr>\n"),
            Event::TaskListMarker(checked) => {
                self.out.push_str(if checked {
                    r#"<input type="checkbox" disabled="" checked="">"#
                } else {
                    r#"<input type="checkbox" disabled="">"#
                });
                self.out.push(' ');
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return;
        }
        match tag {
            Tag::Paragraph => self.out.push_str("<p>"),
            Tag::Heading { level, .. } => {
                self.out.push_str(&format!("<{level}>"));
            }
            Tag::BlockQuote(_) => self.out.push_str("<blockquote>\n"),
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => code_language(&info),
                    CodeBlockKind::Indented => String::new(),
                };
                if lang.is_empty() {
                    self.out.push_str("<pre><code>");
                } else {
                    self.out.push_str(&format!(r#"<pre><code class="language-{lang}">"#));
                }
            }
            // Shown as the text it is; `white-space: pre-wrap` keeps its lines.
            Tag::HtmlBlock => self.out.push_str(r#"<p class="raw-html">"#),
            Tag::List(Some(1)) => self.out.push_str("<ol>\n"),
            Tag::List(Some(start)) => self.out.push_str(&format!("<ol start=\"{start}\">\n")),
            Tag::List(None) => self.out.push_str("<ul>\n"),
            Tag::Item => self.out.push_str("<li>"),
            Tag::Table(aligns) => {
                self.aligns = aligns;
                // The wrapper scrolls a wide table sideways instead of widening the message.
                self.out.push_str("<div class=\"table-wrap\"><table>");
            }
            Tag::TableHead => {
                self.in_head = true;
                self.cell = 0;
                self.out.push_str("<thead><tr>");
            }
            Tag::TableRow => {
                self.cell = 0;
                self.out.push_str("<tr>");
            }
            Tag::TableCell => {
                let name = if self.in_head { "th" } else { "td" };
                // A class, not `style="text-align"`: the CSP forbids inline styles.
                match self.aligns.get(self.cell).copied().unwrap_or(Alignment::None) {
                    Alignment::None => self.out.push_str(&format!("<{name}>")),
                    Alignment::Left => self.out.push_str(&format!(r#"<{name} class="align-left">"#)),
                    Alignment::Center => self.out.push_str(&format!(r#"<{name} class="align-center">"#)),
                    Alignment::Right => self.out.push_str(&format!(r#"<{name} class="align-right">"#)),
                }
            }
            Tag::Emphasis => self.out.push_str("<em>"),
            Tag::Strong => self.out.push_str("<strong>"),
            Tag::Strikethrough => self.out.push_str("<del>"),
            Tag::Link { link_type, dest_url, title, .. } => {
                // An e-mail autolink stays text: links open web pages only.
                let target = if link_type == LinkType::Email { None } else { link_target(&dest_url) };
                // Links cannot nest in Markdown, but guard anyway: nested <a> would be re-parented.
                let emit = target.filter(|_| !self.links.iter().any(|l| *l));
                self.links.push(emit.is_some());
                if let Some(url) = emit {
                    self.open_link(url.as_str(), &title, None);
                }
            }
            Tag::Image { dest_url, title, .. } => {
                // Never an <img>: a link to the picture, whose text is the alt text (or the URL).
                let emit = link_target(&dest_url).filter(|_| !self.links.iter().any(|l| *l));
                self.links.push(emit.is_some());
                if let Some(url) = emit {
                    self.open_link(url.as_str(), &title, Some("image-link"));
                    self.image_text_start.push((self.out.len(), url.to_string()));
                }
            }
            // Not enabled in `options()`; their content still shows.
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        self.depth -= 1;
        if self.depth >= MAX_DEPTH {
            return;
        }
        match tag {
            TagEnd::Paragraph => self.out.push_str("</p>\n"),
            TagEnd::HtmlBlock => {
                // Its last line's newline would show as an empty line under `pre-wrap`.
                if self.out.ends_with('\n') {
                    self.out.pop();
                }
                self.out.push_str("</p>\n");
            }
            TagEnd::Heading(level) => self.out.push_str(&format!("</{level}>\n")),
            TagEnd::BlockQuote(_) => self.out.push_str("</blockquote>\n"),
            TagEnd::CodeBlock => self.out.push_str("</code></pre>\n"),
            TagEnd::List(true) => self.out.push_str("</ol>\n"),
            TagEnd::List(false) => self.out.push_str("</ul>\n"),
            TagEnd::Item => self.out.push_str("</li>\n"),
            TagEnd::Table => self.out.push_str("</tbody></table></div>\n"),
            TagEnd::TableHead => {
                self.in_head = false;
                self.out.push_str("</tr></thead><tbody>");
            }
            TagEnd::TableRow => self.out.push_str("</tr>"),
            TagEnd::TableCell => {
                self.out.push_str(if self.in_head { "</th>" } else { "</td>" });
                self.cell += 1;
            }
            TagEnd::Emphasis => self.out.push_str("</em>"),
            TagEnd::Strong => self.out.push_str("</strong>"),
            TagEnd::Strikethrough => self.out.push_str("</del>"),
            TagEnd::Link => {
                if self.links.pop() == Some(true) {
                    self.out.push_str("</a>");
                }
            }
            TagEnd::Image => {
                if self.links.pop() == Some(true) {
                    if let Some((start, url)) = self.image_text_start.pop() {
                        if self.out.len() == start {
                            self.text(&url);
                        }
                    }
                    self.out.push_str("</a>");
                }
            }
            TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::MetadataBlock(_) => {}
        }
    }

    fn open_link(&mut self, href: &str, title: &str, class: Option<&str>) {
        self.out.push_str("<a href=\"");
        escape(&mut self.out, href, true);
        self.out.push('"');
        if !title.is_empty() {
            self.out.push_str(" title=\"");
            escape(&mut self.out, title, true);
            self.out.push('"');
        }
        if let Some(class) = class {
            self.out.push_str(&format!(r#" class="{class}""#));
        }
        self.out.push_str(&format!(r#" rel="{LINK_REL}">"#));
    }

    /// The TeX source as text; the webview typesets it (KaTeX) or shows it as code.
    fn math(&mut self, class: &str, tex: &str) {
        self.out.push_str(&format!(r#"<span class="{class}">"#));
        self.text(tex);
        self.out.push_str("</span>");
    }

    fn text(&mut self, text: &str) {
        escape(&mut self.out, text, false);
    }
}

/// The fence's language, reduced to characters that cannot leave a class attribute (`"><script>` → `script`).
fn code_language(info: &str) -> String {
    let word = info.split(|c: char| c.is_whitespace() || c == ',' || c == '{').next().unwrap_or("");
    word.to_lowercase().chars().filter(|c| lang_char(*c)).take(32).collect()
}

fn is_br(html: &str) -> bool {
    let t = html.trim().to_ascii_lowercase();
    matches!(t.as_str(), "<br>" | "<br/>" | "<br />")
}

/// HTML escaping as html5ever's serialiser does it (`"` in attributes only; NBSP always).
fn escape(out: &mut String, text: &str, attr: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

/// Defence in depth: ammonia with exactly the allow-list above. Built once; cleaning is cheap.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut tags = HashSet::new();
    let mut attrs: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (tag, allowed) in ALLOWED {
        tags.insert(*tag);
        // `rel` is set by `link_rel`; classes (except on code) by `allowed_classes`.
        let allowed = allowed.iter().copied().filter(|a| *a != "rel" && (*a != "class" || *tag == "code"));
        attrs.insert(*tag, allowed.collect());
    }
    let mut classes: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (tag, class) in FIXED_CLASSES {
        classes.entry(*tag).or_default().insert(*class);
    }
    let mut b = ammonia::Builder::empty();
    b.tags(tags)
        .tag_attributes(attrs)
        .allowed_classes(classes)
        .url_schemes(LINK_SCHEMES.iter().copied().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .attribute_filter(|tag, attr, value| {
            let ok = match (tag, attr) {
                ("code", "class") => allowed_class("code", value),
                ("ol", "start") => !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit()),
                ("input", "type") => value == "checkbox",
                ("input", "disabled" | "checked") => value.is_empty(),
                _ => true,
            };
            ok.then_some(Cow::Borrowed(value))
        });
    b
});

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the writer can produce, at once.
    const RICH: &str = "# Title\n\n## Sub *em* **strong** ~~del~~\n\n###### Six\n\nText with `code & <tags>` and \
        a [link](https://example.com/a?b=1&c=\"2\" \"a title\") and <https://auto.example/x> and <me@example.com>, \
        a ![photo](https://img.example/p.png) and ![](https://img.example/q.png), non\u{a0}breaking, \
        \"quotes\" & 'apostrophes'.\\\nHard break.\n\n> quote\n> > nested\n\n1. one\n2. two\n\n7) seven\n\n- [ ] todo\n\
        - [x] done\n\n  loose\n\n```Rust,ignore\nfn main() {}\n```\n\n    indented\n\n| L | C | R | N |\n|:--|:-:|--:|---|\n\
        | a | b<br>c | d | e |\n\n---\n\n$x^2$ and\n\n$$\\int_0^1 f$$\n\n<div onclick=\"x\">raw</div>\n";

    #[test]
    fn ammonia_changes_nothing_we_write() {
        let raw = write_html(RICH);
        assert_eq!(SANITISER.clean(&raw).to_string(), raw);
        // And the document really used every construct (so the check above covered them).
        for needle in [
            "<h1>",
            "<h6>",
            "<del>",
            "<blockquote>",
            r#"<ol start="7">"#,
            "checked=\"\"",
            r#"class="language-rust""#,
            r#"class="align-center""#,
            r#"class="image-link""#,
            r#"class="math-display""#,
            r#"class="raw-html""#,
            "<br>",
            "<hr>",
            "&nbsp;",
            r#"title="a title""#,
        ] {
            assert!(raw.contains(needle), "{needle} missing from {raw}");
        }
    }

    #[test]
    fn code_languages_are_reduced_to_safe_characters() {
        assert_eq!(code_language("Rust,ignore"), "rust");
        assert_eq!(code_language("c++ {.x}"), "c++");
        assert_eq!(code_language("\"><script>alert(1)</script>"), "scriptalert1script");
        assert_eq!(code_language(""), "");
    }
}
