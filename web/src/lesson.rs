//! Lesson pages: the prose, the lab the lesson uses, and each exercise with Check, Hint, Reset
//! and Show solution, graded by `labvisor-lessons` (which grades against the core's engines).

use std::rc::Rc;

use labvisor_core::lang::{Lang, Text};
use labvisor_lessons::course_vm::{self, CourseAttempt, CourseVm};
use labvisor_lessons::followup::{self, Misconception};
use labvisor_lessons::model::{LabKind, Spec};
use labvisor_lessons::{Action as Step, Exercise, Lesson};
use yew::prelude::*;

use crate::app::{edit_lab, use_app, Action};
use crate::route::{Route, ToolId};
use crate::tools::common::input_value;

/// The progress id of an exercise (the command line records the same one).
pub fn activity_id(lesson: &str, exercise: usize) -> String {
    crate::progress::exercise_activity(lesson, exercise)
}

/// The lessons of this build (prepared at build time, see [`crate::bundle`]).
pub fn lessons() -> &'static [Lesson] {
    crate::bundle::lessons()
}

/// The tool that acts as a lesson's lab, by the lab kind the lesson names (checked when the
/// curriculum loads).
fn lab_tool(lesson: &Lesson) -> Option<ToolId> {
    lesson.lab.lab_kind().map(lab_tool_for)
}

/// Where "Open the lab" goes: the lesson's own network scenario, with the way back, or the
/// tool.
fn lab_route(lesson: &Lesson, tool: ToolId) -> Route {
    match &lesson.lab.scenario {
        Some(scenario) => Route::NetworkScenario {
            scenario: scenario.clone(),
            from: Some(lesson.id.clone()),
        },
        None => Route::Tool(tool),
    }
}

/// The NAT and port-forwarding lessons open their lab with predictions on: the learner writes
/// each NAT rewrite before seeing it (`tools/network/predict.rs`).
const PREDICT_IN_LAB: [&str; 2] = ["nat", "port-forwarding"];

/// The lab's link: its route, with `predict` for the lessons above.
fn lab_link(lesson: &Lesson, tool: ToolId) -> String {
    let route = lab_route(lesson, tool).to_hash();
    if !PREDICT_IN_LAB.contains(&lesson.id.as_str()) {
        return route;
    }
    let joiner = if route.contains('?') { '&' } else { '?' };
    format!("{route}{joiner}predict")
}

fn lab_tool_for(kind: LabKind) -> ToolId {
    match kind {
        LabKind::NetTrace | LabKind::NetMatrix => ToolId::Network,
        LabKind::AddressExplorer => ToolId::Ipv4,
        LabKind::PortExplorer => ToolId::Ports,
        LabKind::HostPlan => ToolId::Sizing,
        LabKind::Doctor => ToolId::Hypervisors,
        LabKind::DiskPool | LabKind::DiskFailure | LabKind::ImageInstances => ToolId::Disks,
    }
}

#[derive(Clone, PartialEq, Properties)]
pub struct LessonPageProps {
    pub id: String,
    pub exercise: u32,
}

#[function_component]
pub fn LessonPage(props: &LessonPageProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let Some(lesson) = lessons().iter().find(|l| l.id == props.id) else {
        return html! {
            <section class="lv-page lv-missing">
                <h1 tabindex="-1">{ props.id.clone() }</h1>
                <p>{ crate::text::LESSON_MISSING.get(lang) }</p>
                <a class="lv-button" href="#/">{ crate::text::BACK_HOME.get(lang) }</a>
            </section>
        };
    };
    let focus = (props.exercise as usize).saturating_sub(1);
    // Embedded in an instructor's page: just the exercise asked for, and a way to the lesson.
    if app.mode == crate::app::Mode::Embed {
        let index = focus.min(lesson.exercises.len().saturating_sub(1));
        let full = format!(
            "{}{}",
            crate::embed::site_base(),
            Route::Lesson {
                id: lesson.id.clone(),
                exercise: props.exercise
            }
            .to_hash()
        );
        return html! {
            <article class="lv-page lv-lesson lv-lesson-embed">
                <p class="lv-lesson-number">{ format!("{} {}", LESSON.get(lang), lesson.number) }</p>
                <h1 tabindex="-1">{ lesson.title.get(lang) }</h1>
                <p class="lv-muted">{ lesson.lab.description.get(lang) }</p>
                <ExerciseCard lesson={lesson.id.clone()} {index} open=true />
                <a class="lv-button lv-ghost" href={full} target="_blank" rel="noopener">{ FULL_LESSON.get(lang) }</a>
            </article>
        };
    }
    let index = lessons()
        .iter()
        .position(|l| l.id == lesson.id)
        .unwrap_or(0);
    let next = lessons().get(index + 1);
    html! {
        <article class="lv-page lv-lesson">
            <header class="lv-tool-head">
                <a class="lv-crumb" href="#/">{ "← " }{ crate::text::LESSONS.get(lang) }</a>
                <p class="lv-lesson-number">{ format!("{} {}", LESSON.get(lang), lesson.number) }</p>
                <h1 tabindex="-1">{ lesson.title.get(lang) }</h1>
            </header>
            <div class="lv-lesson-body">
                <section class="lv-prose" aria-label={PROSE.get(lang)}>{ markdown(lesson.prose.get(lang)) }</section>
                <aside class="lv-lesson-side">
                    <section class="lv-panel">
                        <h2>{ LAB.get(lang) }</h2>
                        <p>{ lesson.lab.description.get(lang) }</p>
                        if !lesson.lab.commands.is_empty() {
                            <p class="lv-muted lv-terminal-label">{ IN_THE_TERMINAL.get(lang) }</p>
                            <pre class="lv-pre" tabindex="0">{ lesson.lab.commands.join("\n") }</pre>
                        }
                        if let Some(tool) = lab_tool(lesson) {
                            <a class="lv-button lv-ghost" href={lab_link(lesson, tool)}>{ OPEN_LAB.get(lang) }</a>
                        }
                    </section>
                    { for (0..lesson.exercises.len()).map(|i| html! {
                        <ExerciseCard lesson={lesson.id.clone()} index={i} open={i == focus} />
                    }) }
                    if let Some(next) = next {
                        <a class="lv-button" href={Route::Lesson { id: next.id.clone(), exercise: 1 }.to_hash()}>
                            { NEXT.get(lang) }{ ": " }{ next.title.get(lang) }{ " →" }
                        </a>
                    }
                </aside>
            </div>
        </article>
    }
}

#[derive(Clone, PartialEq, Properties)]
struct ExerciseProps {
    lesson: String,
    index: usize,
    open: bool,
}

/// Whether the exercise is answered with one `answer` (a text or a choice) rather than a list
/// of actions: the answer kinds, and an exercise of another kind whose reference solution is an
/// answer (a port-forward exercise answered with a rule in Docker's `-p` syntax).
fn answer_kind(ex: &Exercise) -> bool {
    let answer_spec = matches!(
        ex.spec,
        Spec::Choice { .. }
            | Spec::ClassifyAddress { .. }
            | Spec::ClassifyPort { .. }
            | Spec::ClassifyHypervisor { .. }
            | Spec::HostReserve { .. }
            | Spec::NatSource { .. }
    );
    answer_spec || matches!(ex.solution.as_slice(), [Step::Answer(_)])
}

/// The learner's draft as actions: the answer, or a JSON list of actions.
fn actions_of(ex: &Exercise, draft: &str) -> Result<Vec<Step>, String> {
    if answer_kind(ex) {
        return Ok(vec![Step::Answer(draft.trim().to_string())]);
    }
    crate::editor::parse(draft)
}

/// The solution as the learner would enter it.
fn draft_of(ex: &Exercise, actions: &[Step]) -> String {
    match (answer_kind(ex), actions) {
        (true, [Step::Answer(a)]) => a.clone(),
        _ => crate::editor::write(actions),
    }
}

/// The solution being shown: the drafts it goes through, one frame at a time, and the frame
/// on screen.
#[derive(Clone, PartialEq)]
struct Playback {
    frames: Rc<Vec<String>>,
    at: usize,
    /// Milliseconds each frame stays.
    pause: u32,
}

/// Milliseconds between two steps of a solution being shown, and between two frames of an
/// answer being typed.
const STEP_MS: u32 = 450;
const TYPE_MS: u32 = 45;
/// An answer is typed in at most this many frames, however long it is.
const MAX_TYPED_FRAMES: usize = 12;

/// The drafts "Show solution" goes through, and how long each stays: for steps, one more step
/// per frame, so each appears in the list where the learner would have added it; for a written
/// answer, the text typed a few characters at a time; a choice is picked at once.
fn solution_frames(ex: &Exercise) -> (Vec<String>, u32) {
    match (&ex.spec, answer_kind(ex), ex.solution.as_slice()) {
        (Spec::Choice { .. }, _, _) => (vec![draft_of(ex, &ex.solution)], STEP_MS),
        (_, true, [Step::Answer(answer)]) => {
            let chars: Vec<char> = answer.chars().collect();
            let per_frame = chars.len().div_ceil(MAX_TYPED_FRAMES).max(1);
            let frames = (1..=chars.len().div_ceil(per_frame))
                .map(|n| chars[..(n * per_frame).min(chars.len())].iter().collect())
                .collect();
            (frames, TYPE_MS)
        }
        // Nothing to enter: the lab as it starts already passes.
        _ if ex.solution.is_empty() => (vec![String::new()], STEP_MS),
        _ => {
            let frames = (1..=ex.solution.len())
                .map(|n| crate::editor::write(&ex.solution[..n]))
                .collect();
            (frames, STEP_MS)
        }
    }
}

#[function_component]
fn ExerciseCard(props: &ExerciseProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let grade = use_state(|| None::<labvisor_lessons::Grade>);
    let hints_shown = use_state(|| 0usize);
    let playing = use_state(|| None::<Playback>);
    // What the last Check did to the course VM: saved it, or why it could not be kept.
    let saved = use_state(|| None::<Result<CourseVm, String>>);
    let exercise = lessons()
        .iter()
        .find(|l| l.id == props.lesson)
        .and_then(|l| l.exercises.get(props.index));
    let key = exercise.map(|ex| format!("{}/{}", props.lesson, ex.id));
    let on_input = {
        let (key, grade) = (key.clone().unwrap_or_default(), grade.clone());
        let set = edit_lab(&app, move |lab, value: String| {
            lab.drafts.insert(key.clone(), value);
        });
        Callback::from(move |value: String| {
            grade.set(None);
            set.emit(value)
        })
    };
    {
        // The solution plays itself: each frame stays a moment, then the next is entered.
        let (playing, on_input) = (playing.clone(), on_input.clone());
        use_effect_with((*playing).clone(), move |now| {
            let timer = now.clone().map(|p| {
                gloo_timers::callback::Timeout::new(p.pause, move || match p.frames.get(p.at + 1) {
                    Some(next) => {
                        on_input.emit(next.clone());
                        playing.set(Some(Playback {
                            at: p.at + 1,
                            ..p.clone()
                        }));
                    }
                    None => playing.set(None),
                })
            });
            move || drop(timer)
        });
    }
    let Some(ex) = exercise else {
        return html! {};
    };
    let draft = key
        .and_then(|k| app.lab.drafts.get(&k).cloned())
        .unwrap_or_default();
    let activity = activity_id(&props.lesson, props.index);
    let done = app.progress.is_done(&activity);
    let solving = playing.is_some();
    // An exercise that continues the course VM starts from the learner's VM.
    let vm = app.progress.course_vm.clone();
    let started = ex.starting_from(&vm);

    let check = {
        let (grade, saved, app, ex, draft, activity, vm) = (
            grade.clone(),
            saved.clone(),
            app.clone(),
            ex.clone(),
            draft.clone(),
            activity.clone(),
            vm.clone(),
        );
        Callback::from(move |()| {
            let attempt = match actions_of(&ex, &draft) {
                Ok(actions) => course_vm::grade(&ex, &vm, &actions),
                Err(e) => CourseAttempt {
                    grade: labvisor_lessons::Grade {
                        verdict: labvisor_lessons::Verdict::Fail,
                        mistake: Some(e),
                        hint: None,
                        why: None,
                        note: None,
                        trace: Vec::new(),
                    },
                    vm_after: None,
                },
            };
            if attempt.grade.passed() {
                app.dispatch(Action::Complete(activity.clone()));
            }
            if let Some(Ok(next)) = &attempt.vm_after {
                app.dispatch(Action::SaveCourseVm(next.clone()));
            }
            saved.set(attempt.vm_after);
            grade.set(Some(attempt.grade));
        })
    };
    let forget = {
        let (app, saved) = (app.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            saved.set(None);
            app.dispatch(Action::ForgetCourseVm);
        })
    };
    // The hints a learner asks for, from a nudge to the answer, leaving out one that says what
    // the last Check already said.
    let feedback = grade.as_ref().and_then(|g| g.hint.clone());
    let ladder = ex.hints_beside(feedback.as_ref());
    let shown = (*hints_shown).min(ladder.len());
    let hint = {
        let hints_shown = hints_shown.clone();
        let n = ladder.len();
        Callback::from(move |_: MouseEvent| hints_shown.set((*hints_shown + 1).min(n)))
    };
    let reset = {
        let (grade, hints_shown, on_input, playing) = (
            grade.clone(),
            hints_shown.clone(),
            on_input.clone(),
            playing.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            playing.set(None);
            grade.set(None);
            hints_shown.set(0);
            on_input.emit(String::new());
        })
    };
    let solve = {
        let (on_input, playing, grade) = (on_input.clone(), playing.clone(), grade.clone());
        let (frames, pause) = solution_frames(ex);
        let frames = Rc::new(frames);
        Callback::from(move |_: MouseEvent| {
            // What the last Check said was about another answer.
            grade.set(None);
            if let Some(first) = frames.first() {
                on_input.emit(first.clone());
                playing.set(Some(Playback {
                    frames: frames.clone(),
                    at: 0,
                    pause,
                }));
            }
        })
    };
    let input_id = format!("lv-ex-{}-{}", props.lesson, ex.id);
    let input = answer_input(lang, &started, &input_id, &draft, &on_input, &check);
    let hint_label = match ladder.len() {
        0 => HINT.get(lang).to_string(),
        n => format!("{} ({}/{n})", HINT.get(lang), (shown + 1).min(n)),
    };
    html! {
        <section class={classes!("lv-panel", "lv-exercise", done.then_some("lv-exercise-done"), props.open.then_some("lv-exercise-focus"), solving.then_some("lv-solving"))}
            id={format!("exercise-{}", props.index + 1)} aria-labelledby={format!("{input_id}-title")} aria-busy={solving.then_some("true")}>
            <h2 id={format!("{input_id}-title")}>
                { format!("{} {}", EXERCISE.get(lang), props.index + 1) }
                if done { <span class="lv-badge lv-badge-done">{ "✓ " }{ crate::text::DONE.get(lang) }</span> }
            </h2>
            <p>{ inline(ex.prompt.get(lang)) }</p>
            { course_vm_note(lang, ex, &vm, forget) }
            { setup_steps(lang, ex) }
            { input }
            <div class="lv-row lv-exercise-actions">
                <button class="lv-button" onclick={check.reform(|_: MouseEvent| ())} disabled={solving}>{ CHECK.get(lang) }</button>
                <button class="lv-button lv-ghost" onclick={hint} disabled={ladder.is_empty() || shown >= ladder.len()}>{ hint_label }</button>
                <button class="lv-button lv-ghost" onclick={reset}>{ RESET.get(lang) }</button>
                <button class="lv-button lv-ghost" onclick={solve} disabled={solving}>{ SOLUTION.get(lang) }</button>
            </div>
            <p class="lv-solution-status" role="status">
                if let Some(p) = &*playing {
                    { solution_status(lang, ex, p) }
                }
            </p>
            if let Some(g) = &*grade {
                { verdict(lang, g) }
                if g.passed() {
                    { course_vm_saved(lang, saved.as_ref()) }
                }
                if let Some(found) = labvisor_lessons::followup::misconception(ex, g) {
                    <FollowUpCard lesson={props.lesson.clone()} index={props.index} {found} />
                }
            }
            if shown > 0 {
                <ol class="lv-hints" aria-label={HINTS.get(lang)}>
                    { for ladder.iter().take(shown).map(|h| html! { <li>{ inline(h.get(lang)) }</li> }) }
                </ol>
            }
        </section>
    }
}

/// What the solution being shown is doing: which step it entered, or that the answer is being
/// written.
fn solution_status(lang: Lang, ex: &Exercise, p: &Playback) -> String {
    let (n, total) = (p.at + 1, p.frames.len());
    match ex.solution.get(p.at) {
        Some(step) if !answer_kind(ex) => {
            let what = crate::editor::sentence(lang, step);
            match lang {
                Lang::En => format!("Solution, step {n} of {total}: {what}"),
                Lang::Ko => format!("정답 {total}단계 중 {n}단계: {what}"),
            }
        }
        _ => SHOWING_ANSWER.get(lang).to_string(),
    }
}

/// Where the learner answers: choices, a text field, or the step editor, by the exercise's kind.
fn answer_input(
    lang: Lang,
    ex: &Exercise,
    input_id: &str,
    draft: &str,
    on_input: &Callback<String>,
    check: &Callback<()>,
) -> Html {
    match &ex.spec {
        Spec::Choice { options, .. } => html! {
            <fieldset class="lv-choices">
                <legend class="lv-sr">{ ANSWER.get(lang) }</legend>
                { for options.iter().map(|o| {
                    let value = o.id.clone();
                    let on_input = on_input.clone();
                    html! {
                        <label class="lv-choice">
                            <input type="radio" name={input_id.to_string()} value={o.id.clone()} checked={*draft == o.id}
                                onchange={Callback::from(move |_: Event| on_input.emit(value.clone()))} />
                            <span>{ match lang { Lang::En => o.en.clone(), Lang::Ko => o.ko.clone() } }</span>
                        </label>
                    }
                }) }
            </fieldset>
        },
        _ if answer_kind(ex) => {
            let on_input = on_input.clone();
            // A form, so Enter in the field checks the answer.
            let onsubmit = check.reform(|e: SubmitEvent| e.prevent_default());
            html! {
                <form class="lv-answer-form" {onsubmit}>
                    <label class="lv-label" for={input_id.to_string()}>{ ANSWER.get(lang) }</label>
                    <input id={input_id.to_string()} class="lv-input lv-mono lv-answer" value={draft.to_string()} spellcheck="false" autocomplete="off"
                        enterkeyhint="done" oninput={Callback::from(move |e: InputEvent| on_input.emit(input_value(&e)))} />
                </form>
            }
        }
        _ => html! {
            <crate::editor::ActionEditor spec={ex.spec.clone()} setup={Rc::new(ex.setup.clone())} id={input_id.to_string()} draft={draft.to_string()} on_change={on_input.clone()} />
        },
    }
}

/// For an exercise that continues the course VM: the VM it starts from, part by part (the
/// learner's or the default), what a right answer saves, and a way back to the default.
fn course_vm_note(lang: Lang, ex: &Exercise, vm: &CourseVm, forget: Callback<MouseEvent>) -> Html {
    let Some(step) = ex.course_vm else {
        return html! {};
    };
    let note = vm.starting_note(step, lessons());
    html! {
        <div class="lv-course-vm" role="note" aria-label={COURSE_VM.get(lang)}>
            <p>{ inline(note.get(lang)) }</p>
            if !vm.is_default() {
                <button class="lv-button lv-ghost" onclick={forget}>{ FORGET_VM.get(lang) }</button>
            }
        </div>
    }
}

/// What a right answer did to the course VM: the VM as now saved, or why it was not kept.
fn course_vm_saved(lang: Lang, saved: Option<&Result<CourseVm, String>>) -> Html {
    match saved {
        None => html! {},
        Some(Ok(vm)) => html! {
            <p class="lv-course-vm-saved" role="status"><strong>{ VM_SAVED.get(lang) }</strong>{ " " }{ inline(vm.summary().get(lang)) }</p>
        },
        Some(Err(why)) => html! {
            <p class="lv-course-vm-saved" role="status"><strong>{ VM_NOT_SAVED.get(lang) }</strong>{ " " }<span class="lv-mono">{ why.clone() }</span></p>
        },
    }
}

/// The steps that broke a troubleshooting exercise's lab, "as found".
fn setup_steps(lang: Lang, ex: &Exercise) -> Html {
    if ex.setup.is_empty() {
        return html! {};
    }
    html! {
        <div class="lv-setup">
            <p class="lv-muted">{ AS_FOUND.get(lang) }</p>
            <ol class="lv-setup-steps">
                { for ex.setup.iter().map(|step| html! { <li>{ crate::editor::sentence(lang, step) }</li> }) }
            </ol>
        </div>
    }
}

#[derive(Clone, PartialEq, Properties)]
struct FollowUpProps {
    lesson: String,
    index: usize,
    found: Misconception,
}

/// Follow-up questions on the boundary a wrong answer misplaced, until two in a row are right;
/// the same sequence `labvisor lesson follow-up` asks.
#[function_component]
fn FollowUpCard(props: &FollowUpProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let progress = use_state(followup::Progress::default);
    let draft = use_state(String::new);
    let last = use_state(|| None::<bool>);
    let Some(ex) = lessons()
        .iter()
        .find(|l| l.id == props.lesson)
        .and_then(|l| l.exercises.get(props.index))
    else {
        return html! {};
    };
    let question = followup::question(ex, props.found, progress.asked);
    let check = {
        let (progress, draft, last, question) = (
            progress.clone(),
            draft.clone(),
            last.clone(),
            question.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let answer = vec![Step::Answer(draft.trim().to_string())];
            let passed = labvisor_lessons::grade(&question, &answer).passed();
            last.set(Some(passed));
            progress.set(progress.after(passed));
            draft.set(String::new());
        })
    };
    let on_input = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| draft.set(input_value(&e)))
    };
    let input_id = format!("lv-followup-{}-{}", props.lesson, ex.id);
    let last_verdict = match *last {
        Some(true) => {
            html! { <p class="lv-verdict lv-verdict-ok" role="status">{ "✓ " }{ RIGHT.get(lang) }</p> }
        }
        Some(false) => {
            html! { <p class="lv-verdict lv-verdict-bad" role="status">{ "✗ " }{ NOT_YET.get(lang) }</p> }
        }
        None => html! {},
    };
    html! {
        <div class="lv-followup" role="group" aria-labelledby={format!("{input_id}-title")}>
            <h3 id={format!("{input_id}-title")}>{ FOLLOW_UP.get(lang) }</h3>
            <p>{ inline(props.found.explain().get(lang)) }</p>
            { last_verdict }
            if progress.finished() {
                <p class="lv-verdict lv-verdict-ok" role="status">{ LEARNT.get(lang) }</p>
            } else {
                <p><label for={input_id.clone()}>{ inline(question.prompt.get(lang)) }</label></p>
                <div class="lv-row">
                    <input id={input_id.clone()} class="lv-input lv-mono lv-answer" value={(*draft).clone()}
                        spellcheck="false" autocomplete="off" oninput={on_input} />
                    <button class="lv-button" onclick={check}>{ CHECK.get(lang) }</button>
                </div>
            }
        </div>
    }
}

fn verdict(lang: Lang, g: &labvisor_lessons::Grade) -> Html {
    match g.verdict {
        labvisor_lessons::Verdict::Pass => html! {
            <div class="lv-verdict lv-verdict-ok" role="status">
                <span aria-hidden="true">{ "✓ " }</span>{ CORRECT.get(lang) }
                if let Some(note) = &g.note { <p class="lv-verdict-note"><strong>{ NOTE.get(lang) }</strong>{ " " }{ inline(note.get(lang)) }</p> }
                if let Some(why) = &g.why { <p class="lv-verdict-why"><strong>{ WHY.get(lang) }</strong>{ " " }{ inline(why.get(lang)) }</p> }
            </div>
        },
        labvisor_lessons::Verdict::Fail => html! {
            <div class="lv-verdict lv-verdict-bad" role="status">
                <span aria-hidden="true">{ "✗ " }</span>{ NOT_YET.get(lang) }
                if let Some(h) = &g.hint { <p class="lv-verdict-hint">{ h.get(lang).to_string() }</p> }
                else if let Some(m) = &g.mistake { <p class="lv-verdict-hint lv-mono">{ m.clone() }</p> }
            </div>
        },
        labvisor_lessons::Verdict::NeedsEngine(engine) => html! {
            <div class="lv-verdict lv-verdict-no" role="status">{ NEEDS_ENGINE.get(lang) }{ format!(" ({engine:?})") }</div>
        },
    }
}

/// The lessons' Markdown subset: headings, paragraphs, bullet lists, fenced code, inline code
/// and bold.
pub fn markdown(src: &str) -> Html {
    let mut out: Vec<Html> = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Vec<String> = Vec::new();
    let mut code: Option<Vec<&str>> = None;
    fn flush(out: &mut Vec<Html>, para: &mut Vec<&str>, list: &mut Vec<String>) {
        if !para.is_empty() {
            out.push(html! { <p>{ inline(&para.join(" ")) }</p> });
            para.clear();
        }
        if !list.is_empty() {
            out.push(
                html! { <ul>{ for list.iter().map(|i| html! { <li>{ inline(i) }</li> }) }</ul> },
            );
            list.clear();
        }
    }
    for line in src.lines() {
        if let Some(block) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push(html! { <pre class="lv-pre" tabindex="0">{ block.join("\n") }</pre> });
                code = None;
            } else {
                block.push(line);
            }
            continue;
        }
        let t = line.trim();
        if t.starts_with("```") {
            flush(&mut out, &mut para, &mut list);
            code = Some(Vec::new());
        } else if let Some(h) = t.strip_prefix("# ") {
            flush(&mut out, &mut para, &mut list);
            let _ = h; // the page shows the lesson title as its h1
        } else if let Some(h) = t.strip_prefix("## ") {
            flush(&mut out, &mut para, &mut list);
            out.push(html! { <h2>{ inline(h) }</h2> });
        } else if let Some(h) = t.strip_prefix("### ") {
            flush(&mut out, &mut para, &mut list);
            out.push(html! { <h3>{ inline(h) }</h3> });
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            if !para.is_empty() {
                let mut none = Vec::new();
                flush(&mut out, &mut para, &mut none);
            }
            list.push(item.to_string());
        } else if t.is_empty() {
            flush(&mut out, &mut para, &mut list);
        } else if !list.is_empty() && line.starts_with("  ") {
            if let Some(last) = list.last_mut() {
                last.push(' ');
                last.push_str(t);
            }
        } else {
            if !list.is_empty() {
                let mut none = Vec::new();
                flush(&mut out, &mut none, &mut list);
            }
            para.push(t);
        }
    }
    if let Some(block) = code {
        out.push(html! { <pre class="lv-pre" tabindex="0">{ block.join("\n") }</pre> });
    }
    flush(&mut out, &mut para, &mut list);
    html! { <>{ for out }</> }
}

/// Inline Markdown: `code`, **bold** and *emphasis*.
pub fn inline(s: &str) -> Html {
    let mut parts: Vec<Html> = Vec::new();
    for (i, chunk) in s.split('`').enumerate() {
        if i % 2 == 1 {
            parts.push(html! { <code>{ chunk.to_string() }</code> });
            continue;
        }
        for (j, piece) in chunk.split("**").enumerate() {
            if j % 2 == 1 {
                parts.push(html! { <strong>{ piece.to_string() }</strong> });
            } else {
                for (k, text) in piece.split('*').enumerate() {
                    if k % 2 == 1 {
                        parts.push(html! { <em>{ text.to_string() }</em> });
                    } else if !text.is_empty() {
                        parts.push(html! { { text.to_string() } });
                    }
                }
            }
        }
    }
    html! { <>{ for parts }</> }
}

const LESSON: Text = Text::new("Lesson", "레슨");
const FULL_LESSON: Text = Text::new("Read the whole lesson", "레슨 전체 읽기");
const PROSE: Text = Text::new("Lesson text", "레슨 본문");
const LAB: Text = Text::new("Lab", "실습");
const OPEN_LAB: Text = Text::new("Open the lab", "실습 열기");
const IN_THE_TERMINAL: Text = Text::new(
    "The same in the terminal, with Labvisor installed:",
    "Labvisor를 설치했다면 터미널에서 같은 것을 해 볼 수 있습니다:",
);
const NEXT: Text = Text::new("Next lesson", "다음 레슨");
const EXERCISE: Text = Text::new("Exercise", "연습 문제");
const ANSWER: Text = Text::new("Your answer", "내 답");
const CHECK: Text = Text::new("Check", "채점");
const HINT: Text = Text::new("Hint", "힌트");
const HINTS: Text = Text::new(
    "Hints, from a nudge to the answer",
    "힌트: 실마리부터 정답까지",
);
const SHOWING_ANSWER: Text = Text::new("Writing the answer in…", "답을 적는 중…");
const RESET: Text = Text::new("Reset", "초기화");
const SOLUTION: Text = Text::new("Show solution", "정답 보기");
const CORRECT: Text = Text::new(
    "Correct. Saved to your progress.",
    "정답입니다. 진도에 저장했습니다.",
);
const AS_FOUND: Text = Text::new(
    "The lab as you find it (already done before you):",
    "실습의 처음 상태(이미 해 둔 단계):",
);
const FOLLOW_UP: Text = Text::new(
    "A follow-up on that boundary",
    "그 경계를 확인하는 이어지는 질문",
);
const RIGHT: Text = Text::new("Right.", "맞았습니다.");
const COURSE_VM: Text = Text::new("Your course VM", "과정의 내 VM");
const FORGET_VM: Text = Text::new(
    "Forget my VM: start from the default",
    "내 VM 지우기: 기본값에서 시작",
);
const VM_SAVED: Text = Text::new("Saved to your progress:", "진도에 저장했습니다:");
const VM_NOT_SAVED: Text = Text::new(
    "Passed, but the course VM was not saved:",
    "통과했지만 과정 VM은 저장하지 않았습니다:",
);
const LEARNT: Text = Text::new(
    "Two right in a row: the boundary is learnt.",
    "연속 두 번 맞았습니다. 경계를 익혔습니다.",
);
const NOTE: Text = Text::new("Another reading:", "다른 관점:");
const WHY: Text = Text::new("Why:", "왜 그런가:");
const NOT_YET: Text = Text::new("Not yet.", "아직 아닙니다.");
const NEEDS_ENGINE: Text = Text::new(
    "This exercise needs an engine this build does not have yet.",
    "이 문제를 채점하려면 이 빌드에 아직 없는 엔진이 필요합니다.",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nat_lessons_open_their_lab_with_predictions() {
        for id in PREDICT_IN_LAB {
            let lesson = lessons().iter().find(|l| l.id == id).expect(id);
            let link = lab_link(lesson, lab_tool(lesson).unwrap());
            let scenario = lesson.lab.scenario.clone().expect("a lesson scenario");
            assert_eq!(link, format!("#/tool/network/{scenario}?from={id}&predict"));
            assert_eq!(
                Route::parse(&link),
                Route::NetworkScenario {
                    scenario,
                    from: Some(id.to_string())
                }
            );
        }
    }

    #[test]
    fn every_lab_kind_opens_a_tool() {
        assert!(lessons().iter().all(|l| lab_tool(l).is_some()));
        let disks: Vec<&str> = lessons()
            .iter()
            .filter(|l| lab_tool(l) == Some(ToolId::Disks))
            .map(|l| l.id.as_str())
            .collect();
        assert_eq!(
            disks.len(),
            3,
            "the image and disk lessons open the disk lab: {disks:?}"
        );
    }

    #[test]
    fn the_typical_wrong_answers_that_name_a_misconception_open_a_follow_up() {
        let mut found = Vec::new();
        // The lessons as loaded natively: the embedded bundle leaves the attempts out.
        let course = labvisor_lessons::curriculum().expect("the lessons load");
        for lesson in &course.lessons {
            for ex in &lesson.exercises {
                for attempt in &ex.attempts {
                    let grade = labvisor_lessons::grade(ex, &attempt.actions);
                    if let Some(m) = followup::misconception(ex, &grade) {
                        // The card's first question is answerable and graded by the core.
                        let q = followup::question(ex, m, 0);
                        assert!(!q.prompt.en.is_empty() && !q.prompt.ko.is_empty());
                        found.push(m.name());
                    }
                }
            }
        }
        for m in ["unknown-ports", "private-172", "shared-100"] {
            assert!(
                found.contains(&m),
                "no attempt in the course opens {m}: {found:?}"
            );
        }
    }

    #[test]
    fn a_docker_rule_is_typed_as_an_answer_and_graded_by_the_forwarding_engine() {
        let lesson = lessons()
            .iter()
            .find(|l| l.id == "port-forwarding")
            .unwrap();
        let ex = lesson.exercise("docker-publish").unwrap();
        assert!(
            answer_kind(ex),
            "the page shows a text field, not the step editor"
        );
        let swapped = labvisor_lessons::grade(ex, &actions_of(ex, " -p 80:8080 ").unwrap());
        assert_eq!(swapped.mistake.as_deref(), Some("reversed-ports"));
        let ssh = lesson.exercise("ssh-to-vm2").unwrap();
        assert!(!answer_kind(ssh), "rules given as steps keep the editor");
    }

    #[test]
    fn a_shown_solution_enters_its_steps_one_by_one_and_ends_on_the_solution() {
        for lesson in lessons() {
            for ex in &lesson.exercises {
                let (frames, _) = solution_frames(ex);
                assert_eq!(
                    frames.last(),
                    Some(&draft_of(ex, &ex.solution)),
                    "{}",
                    ex.id
                );
                if !answer_kind(ex) && !ex.solution.is_empty() {
                    assert_eq!(
                        frames.len(),
                        ex.solution.len(),
                        "{}: one frame per step",
                        ex.id
                    );
                    for (n, frame) in frames.iter().enumerate() {
                        assert_eq!(crate::editor::parse(frame).map(|s| s.len()), Ok(n + 1));
                    }
                }
            }
        }
        let lesson = lessons()
            .iter()
            .find(|l| l.id == "port-forwarding")
            .unwrap();
        let (typed, _) = solution_frames(lesson.exercise("docker-publish").unwrap());
        assert!(
            typed.len() > 2,
            "an answer is typed in, not dropped in: {typed:?}"
        );
        assert!(typed
            .windows(2)
            .all(|w| w[1].starts_with(&w[0]) && w[1].len() > w[0].len()));
    }

    #[test]
    fn the_vm_planned_in_lesson_6_is_saved_and_lesson_7_starts_from_it() {
        use crate::app::{Action as AppAction, AppState, Mode};
        use yew::Reducible;
        let course = |id: &str| {
            let lesson = lessons().iter().find(|l| l.id == id).expect(id);
            let ex = lesson
                .exercises
                .iter()
                .find(|e| e.course_vm.is_some())
                .expect("a course VM exercise");
            (lesson, ex)
        };
        let mut state = std::rc::Rc::new(AppState {
            mode: Mode::Full,
            lang: Lang::En,
            route: Route::Home,
            lab: Default::default(),
            progress: Default::default(),
            notice: None,
        });
        // Lesson 6, entered as the editor writes it: web with 3 vCPUs and 6000 MiB.
        let (_, size) = course("host-sizing");
        let draft = crate::editor::write(&[Step::AddVm {
            name: "web".into(),
            vcpus: 3,
            ram_mib: 6000,
        }]);
        let actions = actions_of(size, &draft).unwrap();
        let attempt = course_vm::grade(size, &state.progress.course_vm, &actions);
        assert!(attempt.grade.passed(), "{:?}", attempt.grade);
        let Some(Ok(vm)) = attempt.vm_after else {
            panic!("a pass saves the VM")
        };
        state = state.reduce(AppAction::SaveCourseVm(vm));
        // Lesson 7 now says the VM is the learner's, and the file the page exports carries it.
        let (_, disk) = course("disk-allocation");
        let note = state
            .progress
            .course_vm
            .starting_note(disk.course_vm.unwrap(), lessons());
        assert!(
            note.en
                .contains("3 vCPUs and 6000 MiB of RAM (yours, from lesson 6)"),
            "{}",
            note.en
        );
        let file = crate::progress::Progress::from_file(&state.progress.to_file()).unwrap();
        assert_eq!(file.course_vm, state.progress.course_vm);
        // Forgetting it brings the default back.
        state = state.reduce(AppAction::ForgetCourseVm);
        assert!(state.progress.course_vm.is_default());
    }

    #[test]
    fn the_curriculum_loads_and_every_solution_passes_as_the_page_enters_it() {
        let lessons = match labvisor_lessons::curriculum() {
            Ok(c) => &c.lessons,
            Err(problems) => panic!("{problems:?}"),
        };
        assert!(lessons.iter().any(|l| l.id == "nat"));
        for lesson in lessons {
            for ex in &lesson.exercises {
                let draft = draft_of(ex, &ex.solution);
                let actions = actions_of(ex, &draft).unwrap();
                let grade = labvisor_lessons::grade(ex, &actions);
                assert!(
                    !matches!(grade.verdict, labvisor_lessons::Verdict::Fail),
                    "{}/{}: {grade:?}",
                    lesson.id,
                    ex.id
                );
            }
        }
    }
}
