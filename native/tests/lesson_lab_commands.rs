//! Every `labvisor …` command a lesson's lab suggests is one this CLI accepts, so a learner
//! who copies it never meets a usage error. Commands of a subcommand this build lacks are
//! reported as skipped, by name.

use clap::Parser;
use labvisor::cli::Cli;

#[test]
fn every_lab_command_parses() {
    let course = labvisor_lessons::curriculum().expect("embedded lessons load");
    let mut failures = Vec::new();
    let mut checked = 0;
    for lesson in &course.lessons {
        for command in &lesson.lab.commands {
            let words: Vec<&str> = command.split_whitespace().collect();
            assert_eq!(words.first(), Some(&"labvisor"), "{}: {command}", lesson.id);
            match Cli::try_parse_from(&words) {
                Ok(_) => checked += 1,
                Err(e) if e.kind() == clap::error::ErrorKind::InvalidSubcommand => {
                    println!(
                        "SKIP: `{command}` ({}): this build has no `labvisor {}`",
                        lesson.id, words[1]
                    );
                }
                Err(e) => failures.push(format!("{}: `{command}`: {e}", lesson.id)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 10, "only {checked} lab commands checked");
}
