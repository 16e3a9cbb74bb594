//! The two languages Gemma Desk speaks. Messages that come from Rust (errors, hints) are
//! produced here in both; the webview has its own table for its own strings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// `zh`, `zh-CN`, `zh_TW.UTF-8`, … are Chinese; anything else is English.
    pub fn from_locale(locale: &str) -> Lang {
        let l = locale.trim().to_ascii_lowercase();
        if l == "zh" || l.starts_with("zh-") || l.starts_with("zh_") || l.starts_with("zh.") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The language of a terminal, from the usual POSIX variables in their order of precedence.
    pub fn from_env() -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Ok(v) = std::env::var(var) {
                if !v.is_empty() {
                    return Lang::from_locale(&v);
                }
            }
        }
        Lang::En
    }

    /// Pick the string for this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales() {
        for zh in ["zh", "zh-CN", "zh_TW.UTF-8", "ZH-hk", "zh-Hans"] {
            assert_eq!(Lang::from_locale(zh), Lang::Zh, "{zh}");
        }
        for en in ["en-US", "C", "", "de_DE.UTF-8", "zhx"] {
            assert_eq!(Lang::from_locale(en), Lang::En, "{en}");
        }
    }
}
