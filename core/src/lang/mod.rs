//! The two languages Labvisor speaks, and text written in both.
//!
//! [`particle`] chooses Korean particles by the sound of the word before them, so no sentence
//! has to write both forms.

pub mod particle;

use serde::{Deserialize, Serialize};

/// A language a learner reads explanations in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean (한국어).
    Ko,
}

impl Lang {
    /// Picks the language from a POSIX locale string such as `ko_KR.UTF-8`; anything that is
    /// not Korean reads as English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.trim().to_ascii_lowercase().starts_with("ko") {
            Lang::Ko
        } else {
            Lang::En
        }
    }

    /// The ISO 639-1 code: `en` or `ko`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = crate::lang::UnknownLang;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "ko" | "kr" | "korean" | "한국어" => Ok(Lang::Ko),
            _ => Err(UnknownLang(s.to_string())),
        }
    }
}

/// A language name that is neither English nor Korean.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: expected `en` or `ko`")]
pub struct UnknownLang(pub String);

/// A piece of teaching text in both languages.
///
/// Catalog text is compiled in, so this holds `&'static str`; it serializes as
/// `{"en": "...", "ko": "..."}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Text {
    /// The English text.
    pub en: &'static str,
    /// The Korean text.
    pub ko: &'static str,
}

impl Text {
    /// Text in both languages.
    pub const fn new(en: &'static str, ko: &'static str) -> Text {
        Text { en, ko }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Ko => self.ko,
        }
    }
}

/// Text in both languages, owned: for text read at run time (a scenario file's title, a
/// lesson) and for [`Explain`]'s sentences, which carry the values they explain. A file
/// written in one language leaves the other empty: [`Bilingual::missing`] says which, and
/// [`Bilingual::get`] falls back to English.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    /// The English text.
    #[serde(default)]
    pub en: String,
    /// The Korean text (empty when not translated).
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

    /// The text in `lang`; English where there is no Korean.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ko if !self.ko.is_empty() => &self.ko,
            _ => &self.en,
        }
    }

    /// Whether there is no text in either language.
    pub fn is_empty(&self) -> bool {
        self.en.is_empty() && self.ko.is_empty()
    }

    /// The languages whose text is empty or only white space.
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

/// A result, warning or error that a learner sees, saying itself in both languages.
///
/// The core is the one voice: every type a front end shows to a learner implements this beside
/// its definition, and the front ends (the CLI, the browser) print the sentence as it is and
/// add only their own labels around it ("warning:", a flag to try). For an error type with a
/// `Display`, the English is the `Display` form.
pub trait Explain {
    /// The explanation in `lang`: one or more sentences naming the values involved.
    fn explain_in(&self, lang: Lang) -> String;

    /// The explanation in both languages.
    fn explain(&self) -> Bilingual {
        Bilingual::new(self.explain_in(Lang::En), self.explain_in(Lang::Ko))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_picks_korean_only_for_ko() {
        assert_eq!(Lang::from_locale("ko_KR.UTF-8"), Lang::Ko);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("C"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
    }

    #[test]
    fn parses_codes_and_rejects_others() {
        assert_eq!("KO".parse::<Lang>(), Ok(Lang::Ko));
        assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
        let err = "fr".parse::<Lang>().unwrap_err();
        assert!(err.to_string().contains("\"fr\""));
    }

    #[test]
    fn text_picks_language() {
        let t = Text::new("port", "포트");
        assert_eq!(t.get(Lang::En), "port");
        assert_eq!(t.get(Lang::Ko), "포트");
    }

    #[test]
    fn bilingual_falls_back_to_english_without_korean() {
        let both = Bilingual::new("port", "포트");
        assert_eq!(both.get(Lang::Ko), "포트");
        let en_only = Bilingual::new("port", "");
        assert_eq!(en_only.get(Lang::Ko), "port");
        assert!(!en_only.is_empty());
        assert!(Bilingual::default().is_empty());
        assert_eq!(en_only.missing(), vec![Lang::Ko]);
        assert_eq!(Bilingual::default().missing(), vec![Lang::En, Lang::Ko]);
    }
}
