//! Where Ollama is: an explicit host (flag or setting), else `OLLAMA_HOST`, else the default —
//! parsed the way Ollama's own `envconfig.Host()` does, so that whatever works for `ollama run`
//! works here too.

use url::Url;

pub const DEFAULT_HOST: &str = "http://127.0.0.1:11434";

/// The base URL to talk to. `explicit` (a `--host` flag or the app's setting) wins over the
/// `OLLAMA_HOST` environment variable; blank values count as unset.
pub fn resolve_host(explicit: Option<&str>) -> Result<Url, String> {
    let env = std::env::var("OLLAMA_HOST").ok();
    let chosen = [explicit, env.as_deref()].into_iter().flatten().map(clean).find(|s| !s.is_empty());
    match chosen {
        Some(raw) => parse_host(&raw),
        None => Ok(Url::parse(DEFAULT_HOST).expect("default host parses")),
    }
}

fn clean(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').trim().to_string()
}

/// Parse one host value: no scheme → `http`; no port → 11434 for a bare host, but the
/// scheme's default port when a scheme was given (`http://h` → 80, `https://h` → 443);
/// `0.0.0.0` and `::` (listen-on-all addresses) mean this machine; a path is kept as a base path.
pub fn parse_host(raw: &str) -> Result<Url, String> {
    let raw = clean(raw);
    if raw.is_empty() {
        return Err("the host is empty".into());
    }
    let (with_scheme, had_scheme) =
        if raw.contains("://") { (raw.clone(), true) } else { (format!("http://{raw}"), false) };
    let mut url = Url::parse(&with_scheme).map_err(|e| format!("\"{raw}\" is not a valid address ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("\"{raw}\" must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("\"{raw}\" has no host name"));
    }
    if !had_scheme && url.port().is_none() {
        url.set_port(Some(11434)).map_err(|_| format!("\"{raw}\" cannot take a port"))?;
    }
    match url.host_str() {
        Some("0.0.0.0") => url.set_host(Some("127.0.0.1")).expect("valid host"),
        Some("[::]") => url.set_host(Some("[::1]")).expect("valid host"),
        _ => {}
    }
    // Keep a base path (reverse proxies) but make joining relative paths append to it.
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// True when the host is this machine: such requests must not go through a system proxy.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The host as shown to people: no trailing slash.
pub fn display(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        display(&parse_host(s).unwrap())
    }

    #[test]
    fn parses_like_ollama() {
        assert_eq!(p("127.0.0.1"), "http://127.0.0.1:11434");
        assert_eq!(p("example.com"), "http://example.com:11434");
        assert_eq!(p("example.com:8080"), "http://example.com:8080");
        assert_eq!(p("http://example.com"), "http://example.com");
        assert_eq!(p("https://example.com"), "https://example.com");
        assert_eq!(p("https://example.com:8443"), "https://example.com:8443");
        assert_eq!(p("0.0.0.0"), "http://127.0.0.1:11434");
        assert_eq!(p("0.0.0.0:9999"), "http://127.0.0.1:9999");
        assert_eq!(p("[::]:11434"), "http://[::1]:11434");
        assert_eq!(p("  \"localhost:1234\" "), "http://localhost:1234");
        assert_eq!(p("'http://h:1/ollama'"), "http://h:1/ollama");
        assert_eq!(p("http://h:1/ollama/"), "http://h:1/ollama");
    }

    #[test]
    fn base_path_is_kept_when_joining() {
        let u = parse_host("http://h:1/ollama").unwrap();
        assert_eq!(u.join("api/tags").unwrap().as_str(), "http://h:1/ollama/api/tags");
        let u = parse_host("h").unwrap();
        assert_eq!(u.join("api/tags").unwrap().as_str(), "http://h:11434/api/tags");
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse_host("").is_err());
        assert!(parse_host("ftp://h").is_err());
        assert!(parse_host("http://").is_err());
    }

    #[test]
    fn loopback() {
        assert!(is_loopback(&parse_host("localhost").unwrap()));
        assert!(is_loopback(&parse_host("127.0.0.2").unwrap()));
        assert!(is_loopback(&parse_host("0.0.0.0").unwrap()));
        assert!(!is_loopback(&parse_host("example.com").unwrap()));
    }
}
