//! The one way a forwarding rule is typed, in the exercises and in the network lab alike: a
//! single line in VirtualBox's form (`ssh,tcp,,2222,10.0.2.5,22`), QEMU's hostfwd form
//! (`tcp::2222-10.0.2.5:22`), VirtualBox's NAT Network form or Docker's `-p 2222:22`, read by
//! the core's [`PortForward::read`]. Under the line stands what was read and in which form, or
//! what is wrong with it followed by how both common forms are written.
//!
//! It owns no state: the text lives with whoever submits it (the exercise's form, the lab's
//! editor), so that Enter and the button go through that owner's checks.

use labvisor_core::lang::{Explain, Lang, Text};
use labvisor_core::net::forward::{ForwardProblem, PortForward, RuleSyntax};
use labvisor_lessons::action::{Action, ForwardStep};
use yew::prelude::*;

use super::sentence;

/// What the line holds: nothing yet, a rule (and the form it was written in), or a problem in
/// the learner's language.
#[derive(Clone, Debug, PartialEq)]
pub enum Reading {
    /// Nothing typed.
    Empty,
    /// A rule, written in `syntax`.
    Rule {
        /// The rule.
        rule: PortForward,
        /// The form it was written in.
        syntax: RuleSyntax,
    },
    /// What is wrong: the core's sentence.
    Wrong(String),
}

/// Reads `text` as a rule and checks it against `existing` (a clash is the core's
/// [`ForwardConflict`]). `needs_guest_address`: on a NAT Network the rule must name its guest.
pub fn read(
    lang: Lang,
    text: &str,
    existing: &[PortForward],
    needs_guest_address: bool,
) -> Reading {
    let text = text.trim();
    if text.is_empty() {
        return Reading::Empty;
    }
    match PortForward::read(text) {
        Err(e) => Reading::Wrong(e.problem.explain_in(lang)),
        Ok((rule, _)) if needs_guest_address && rule.guest_ip.is_none() => {
            Reading::Wrong(ForwardProblem::GuestAddressRequired.explain_in(lang))
        }
        Ok((rule, syntax)) => match rule.conflict_with(existing) {
            Some(clash) => Reading::Wrong(clash.explain_in(lang)),
            None => Reading::Rule { rule, syntax },
        },
    }
}

impl Reading {
    /// The rule read, if the line holds one that can be added.
    pub fn rule(&self) -> Option<&PortForward> {
        match self {
            Reading::Rule { rule, .. } => Some(rule),
            _ => None,
        }
    }

    /// The line under the field: the form read and the rule as a sentence, or the problem.
    pub fn said(&self, lang: Lang) -> String {
        match self {
            Reading::Empty => String::new(),
            Reading::Rule { rule, syntax } => {
                let step = Action::AddForward(ForwardStep {
                    rule: rule.clone(),
                    vm: None,
                });
                format!(
                    "{} {}: {}",
                    READ_AS.get(lang),
                    syntax.explain_in(lang),
                    sentence(lang, &step)
                )
            }
            Reading::Wrong(problem) => problem.clone(),
        }
    }
}

/// The rule field: its label, the line, and under it what was read or what is wrong (then how
/// both forms are written). `id` is the input's; the line under it is `{id}-read`.
///
/// `refused` is why the owner refused to add the line as it stands (its reading's problem, or
/// the engine's when the rule read well): it takes the reading's place, as an alert, so a
/// refusal is said once, here, and announced when it happens. While the learner types, the
/// reading is a polite live region instead.
pub fn field(
    lang: Lang,
    id: &str,
    text: &str,
    reading: &Reading,
    refused: Option<&str>,
    on_text: Callback<String>,
) -> Html {
    let read_id = format!("{id}-read");
    let wrong = refused.is_some() || matches!(reading, Reading::Wrong(_));
    let oninput =
        Callback::from(move |e: InputEvent| on_text.emit(crate::tools::common::input_value(&e)));
    html! {
        <div class="lv-field lv-rule-field">
            <label class="lv-label" for={id.to_string()}>{ RULE.get(lang) }</label>
            <input id={id.to_string()} class="lv-input lv-mono lv-rule-input" value={text.to_string()}
                placeholder="ssh,tcp,,2222,10.0.2.5,22  |  tcp::2222-10.0.2.5:22" autocomplete="off" spellcheck="false"
                aria-invalid={wrong.then_some("true")} aria-describedby={read_id.clone()} {oninput} />
            <div id={read_id} class={classes!("lv-rule-read", wrong.then_some("lv-field-error"))}
                aria-live={refused.is_none().then_some("polite")}>
                { match (refused, reading) {
                    (Some(why), _) => html! {
                        <>
                        <p class="lv-rule-refused" role="alert">{ why.to_string() }</p>
                        <p class="lv-small-text">{ RuleSyntax::both_forms_in(lang) }</p>
                        </>
                    },
                    (None, Reading::Empty) => html! { <p class="lv-muted lv-small-text">{ RuleSyntax::both_forms_in(lang) }</p> },
                    (None, Reading::Rule { .. }) => html! { <p class="lv-rule-ok">{ reading.said(lang) }</p> },
                    (None, Reading::Wrong(_)) => html! {
                        <>
                        <p>{ reading.said(lang) }</p>
                        <p class="lv-small-text">{ RuleSyntax::both_forms_in(lang) }</p>
                        </>
                    },
                } }
            </div>
        </div>
    }
}

const RULE: Text = Text::new(
    "Rule (VirtualBox's or QEMU's form)",
    "규칙 (VirtualBox 또는 QEMU 형식)",
);
const READ_AS: Text = Text::new("Read as", "읽은 형식:");

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn both_forms_read_as_the_same_rule_and_say_which_form() {
        let vbox = read(Lang::En, "ssh,tcp,,2222,10.0.2.5,22", &[], true);
        let qemu = read(Lang::En, " tcp::2222-10.0.2.5:22 ", &[], true);
        let (Some(a), Some(b)) = (vbox.rule(), qemu.rule()) else {
            panic!("{vbox:?} {qemu:?}")
        };
        assert_eq!(
            (a.host_port, a.guest_ip, a.guest_port),
            (b.host_port, b.guest_ip, b.guest_port)
        );
        assert!(
            vbox.said(Lang::En).starts_with("Read as VirtualBox's form"),
            "{}",
            vbox.said(Lang::En)
        );
        assert!(qemu.said(Lang::En).contains("QEMU's hostfwd form"));
        assert!(qemu.said(Lang::Ko).contains("QEMU의 hostfwd 형식"));
        assert!(
            qemu.said(Lang::Ko).contains("포트 2222를"),
            "{}",
            qemu.said(Lang::Ko)
        );
    }

    #[test]
    fn a_wrong_rule_says_why_and_a_clash_names_the_rule_already_there() {
        assert_eq!(read(Lang::En, "  ", &[], false), Reading::Empty);
        let Reading::Wrong(why) = read(Lang::En, "ssh 2222 22", &[], false) else {
            panic!("not a rule")
        };
        assert!(why.contains("VirtualBox") && why.contains("QEMU"), "{why}");
        let Reading::Wrong(why) = read(Lang::En, "ssh,tcp,,2222,,22", &[], true) else {
            panic!("a NAT Network rule names its guest")
        };
        assert!(why.contains("guest address"), "{why}");
        let there = PortForward::parse_any("ssh,tcp,,2222,,22").unwrap();
        let Reading::Wrong(why) = read(Lang::En, "web,tcp,,2222,,80", &[there], false) else {
            panic!("a clash")
        };
        assert!(why.contains("ssh"), "{why}");
    }
}
