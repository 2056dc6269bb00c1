//! Every Korean string the project ships reads as Korean: no particle written in both forms
//! (을(를), 이(가), …) and one reading for NAT (엔에이티: NAT가) and NIC (닉: NIC이).
//!
//! Walks the sources a learner's text comes from (the core, the curriculum, the CLI, the web
//! app, the static site and the docs) and prints every offending `file:line`. Sentences that put
//! a particle after a value choose it with `labvisor_core::lang::particle`; fixed text writes the
//! right form (docs/authoring.md).

use std::fs;
use std::path::{Path, PathBuf};

/// Where text shown to learners or authors lives, relative to the workspace root.
const ROOTS: &[&str] = &["core", "lessons", "native/src", "web/src", "www", "docs"];

/// The file kinds that hold that text.
const EXTENSIONS: &[&str] = &["rs", "toml", "md", "html", "js", "cjs", "css"];

/// Both forms written at once, the form-like notation the course does not use.
const DOUBLED: &[&str] = &[
    "을(를)", "를(을)", "(을)를", "이(가)", "가(이)", "(이)가", "은(는)", "는(은)", "(은)는",
    "과(와)", "와(과)", "(과)와", "(으)로",
];

/// Lines that quote a wrong form on purpose, to forbid it or to test that it is refused.
const QUOTES_THE_WRONG_FORM: &[(&str, usize, &str)] = &[
    (
        "core/src/lang/particle.rs",
        6,
        "the module doc names the notation it replaces",
    ),
    (
        "lessons/src/glossary.rs",
        4,
        "the glossary's doc names the notation it refuses",
    ),
    (
        "lessons/src/glossary.rs",
        132,
        "test input: the linter must report 을(를)",
    ),
    (
        "lessons/content/glossary.toml",
        61,
        "the wordings `lesson lint` refuses",
    ),
    (
        "core/src/net/scenario/goal.rs",
        437,
        "a test that the goal's Korean has no doubled particle",
    ),
    (
        "core/src/net/trace.rs",
        554,
        "a test that no trace explanation has a doubled particle",
    ),
    (
        "docs/authoring.md",
        57,
        "the authoring rule that forbids both forms",
    ),
];

/// `word` followed by these particles reads it the wrong way (docs/authoring.md): NAT is
/// 엔에이티, which ends in a vowel; NIC is 닉, which ends in a consonant.
const WRONG_READINGS: &[(&str, &[&str])] = &[
    ("NAT", &["이", "을", "은", "과", "으로"]),
    ("NIC", &["가", "를", "는", "와", "로"]),
];

/// The glossary lists the wrong readings as `avoid` entries, and its tests feed them in.
const LISTS_WRONG_READINGS: &[&str] = &["lessons/content/glossary.toml", "lessons/src/glossary.rs"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Every scanned file under `ROOTS`, as (path relative to the workspace, contents).
fn sources() -> Vec<(String, String)> {
    let root = workspace_root();
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = ROOTS.iter().map(|r| root.join(r)).collect();
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|n| n == "target" || n == "pkg")
                {
                    continue;
                }
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
            {
                let text =
                    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let relative = path
                    .strip_prefix(&root)
                    .expect("under the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((relative, text));
            }
        }
    }
    files.sort();
    assert!(
        files.len() > 100,
        "only {} files found: is the walk looking in the right place?",
        files.len()
    );
    files
}

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Whether `line` has `word` directly followed by one of `particles` as a whole particle (not
/// the start of a longer word: NAT이고 is the copula, which NAT may take).
fn wrong_reading_in(line: &str, word: &str, particles: &[&str]) -> Option<String> {
    for (at, _) in line.match_indices(word) {
        let rest = &line[at + word.len()..];
        for particle in particles {
            if let Some(after) = rest.strip_prefix(particle) {
                if !after.chars().next().is_some_and(is_hangul) {
                    return Some(format!("{word}{particle}"));
                }
            }
        }
    }
    None
}

#[test]
fn no_korean_string_writes_a_particle_in_both_forms() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let Some(form) = DOUBLED.iter().find(|form| line.contains(*form)) else {
                continue;
            };
            let quoted = QUOTES_THE_WRONG_FORM
                .iter()
                .any(|(file, at, _)| *file == path && *at == number);
            if !quoted {
                found.push(format!("{path}:{number}: {form}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} line(s) write a particle in both forms; choose the one the word takes \
         (labvisor_core::lang::particle after a value):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn every_allowed_quote_still_quotes_a_doubled_particle() {
    let files = sources();
    for (file, at, reason) in QUOTES_THE_WRONG_FORM {
        let (_, text) = files
            .iter()
            .find(|(path, _)| path == file)
            .unwrap_or_else(|| panic!("{file} ({reason}) no longer exists"));
        let line = text.lines().nth(at - 1).unwrap_or_default();
        assert!(
            DOUBLED.iter().any(|form| line.contains(form)),
            "{file}:{at} ({reason}) no longer quotes a doubled particle: update the allow-list"
        );
    }
}

#[test]
fn nat_and_nic_take_the_particles_of_one_reading() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if LISTS_WRONG_READINGS.contains(&path.as_str()) {
            continue;
        }
        for (index, line) in text.lines().enumerate() {
            for (word, particles) in WRONG_READINGS {
                if let Some(wrong) = wrong_reading_in(line, word, particles) {
                    found.push(format!("{path}:{}: {wrong}: {}", index + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "NAT is read 엔에이티 (NAT가, NAT를) and NIC 닉 (NIC이, NIC을), docs/authoring.md:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_wrong_reading_check_sees_particles_but_not_longer_words() {
    assert_eq!(
        wrong_reading_in("NAT이 주소를", "NAT", &["이"]).as_deref(),
        Some("NAT이")
    );
    assert_eq!(
        wrong_reading_in("VM의 NIC가.", "NIC", &["가"]).as_deref(),
        Some("NIC가")
    );
    assert_eq!(wrong_reading_in("NAT이고", "NAT", &["이"]), None);
    assert_eq!(wrong_reading_in("NAT가 바꿉니다", "NAT", &["이"]), None);
}

#[test]
fn every_example_scenario_has_a_title_in_both_languages() {
    use labvisor_core::net::scenario::{Scenario, EXAMPLES};
    for (name, src) in EXAMPLES {
        let scenario = Scenario::parse(name, src).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let title = &scenario.title;
        assert!(
            title.missing().is_empty(),
            "{name}: write title.en and title.ko (missing {:?})",
            title.missing()
        );
        assert!(
            title.ko.chars().any(is_hangul),
            "{name}: the Korean title is Korean: {:?}",
            title.ko
        );
        assert_ne!(title.en, *name, "{name}: a title, not the identifier");
    }
}
