//! The course's glossary (`content/glossary.toml`): each term in both languages, where its
//! Korean comes from, and the Korean wordings no lesson may use. `labvisor lesson lint` checks
//! every lesson's `ko.md` and `lesson.toml` against it, so that one lesson cannot call a mode
//! 브릿지 while the next says 어댑터에 브리지, or write 을(를) where one particle belongs.

use serde::Deserialize;

use crate::load::{LessonSource, Problem, Severity};

/// The glossary this build carries.
const GLOSSARY: &str = include_str!("../content/glossary.toml");

/// One term.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The English term.
    pub en: String,
    /// The Korean the lessons use.
    pub ko: String,
    /// Where the Korean comes from.
    pub source: String,
    /// Wordings that must not appear in Korean text.
    #[serde(default)]
    pub avoid: Vec<String>,
}

/// Every term.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Glossary {
    /// The terms, in the file's order.
    #[serde(rename = "term")]
    pub terms: Vec<Term>,
}

impl Glossary {
    /// Parses a glossary file's text.
    pub fn parse(text: &str) -> Result<Glossary, String> {
        let glossary: Glossary = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(t) = glossary
            .terms
            .iter()
            .find(|t| t.avoid.iter().any(String::is_empty))
        {
            return Err(format!(
                "term {:?}: an empty `avoid` entry matches everything",
                t.en
            ));
        }
        Ok(glossary)
    }

    /// The glossary embedded in this build (its file is checked by a test, so this cannot fail
    /// in a released build).
    pub fn course() -> Glossary {
        Glossary::parse(GLOSSARY).unwrap_or(Glossary { terms: Vec::new() })
    }

    /// Every avoided wording in `text`, as errors at `file`:line:column that name the term to
    /// use instead.
    pub fn check_text(&self, file: &str, text: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            for term in &self.terms {
                for wrong in &term.avoid {
                    for (at, _) in line.match_indices(wrong.as_str()) {
                        problems.push(Problem {
                            file: file.to_string(),
                            line: n + 1,
                            column: line[..at].chars().count() + 1,
                            severity: Severity::Error,
                            message: format!(
                                "{wrong:?} is not how the course writes {:?}: write {:?} (source: {}; the glossary is lessons/content/glossary.toml)",
                                term.en, term.ko, term.source
                            ),
                        });
                    }
                }
            }
        }
        problems.sort_by_key(|p| (p.line, p.column));
        problems
    }

    /// Checks a lesson's Korean: `ko.md` whole, and `lesson.toml` (whose English lines cannot
    /// hold a Korean wording).
    pub fn check_lesson(&self, source: &LessonSource) -> Vec<Problem> {
        ["ko.md", "lesson.toml"]
            .iter()
            .filter_map(|name| {
                let text = source.files.get(*name)?;
                Some(self.check_text(&format!("{}/{name}", source.dir), text))
            })
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_glossary_parses_and_every_term_has_both_languages() {
        let g = Glossary::parse(GLOSSARY).unwrap();
        assert!(g.terms.len() >= 5);
        for t in &g.terms {
            assert!(
                !t.en.is_empty() && !t.ko.is_empty() && !t.source.is_empty(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn every_embedded_lesson_uses_the_glossary_terms() {
        let g = Glossary::course();
        let problems: Vec<String> = crate::embedded_sources()
            .iter()
            .flat_map(|s| g.check_lesson(s))
            .map(|p| p.to_string())
            .collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn an_avoided_wording_is_reported_where_it_stands_with_the_term_to_use() {
        let g = Glossary::course();
        let problems = g.check_text(
            "x/ko.md",
            "첫 줄\nVM의 NIC를 브릿지로 바꾸고 포트 2222을(를) 엽니다",
        );
        let found: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(found, [(2, 5), (2, 10), (2, 26)], "{problems:#?}");
        assert!(problems[1].message.contains("어댑터에 브리지"));
        assert!(Glossary::parse("[[term]]\nen='a'\nko='b'\nsource='c'\navoid=['']").is_err());
        assert!(Glossary::parse("[[term]]\nen='a'\nko='b'\nsource='c'\nwrong=1").is_err());
    }
}
