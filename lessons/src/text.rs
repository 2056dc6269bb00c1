//! Teaching text in both languages, owned (lessons are loaded at run time from embedded files).

use labvisor_core::lang::Lang;
use serde::{Deserialize, Serialize};

/// A piece of text in English and Korean. Either may be missing in a lesson file; the
/// validator reports that as a missing translation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    /// English.
    #[serde(default)]
    pub en: String,
    /// Korean.
    #[serde(default)]
    pub ko: String,
}

impl Bilingual {
    /// Text in both languages.
    pub fn new(en: impl Into<String>, ko: impl Into<String>) -> Bilingual {
        Bilingual {
            en: en.into(),
            ko: ko.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ko => &self.ko,
        }
    }

    /// The languages whose text is empty.
    pub fn missing(&self) -> Vec<Lang> {
        let mut missing = Vec::new();
        if self.en.trim().is_empty() {
            missing.push(Lang::En);
        }
        if self.ko.trim().is_empty() {
            missing.push(Lang::Ko);
        }
        missing
    }
}
