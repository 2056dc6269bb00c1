//! The pages: the home page with the lesson list and tools, and the page for each route.

use labvisor_core::lang::Text;
use yew::prelude::*;

use crate::app::{use_app, Action};
use crate::route::{Route, ToolId};
use crate::text as t;
use crate::tools;

/// The page for `route`.
pub fn page(route: &Route) -> Html {
    match route {
        Route::Home => html! { <Home /> },
        Route::Tool(tool) => tools::page(*tool),
        Route::NetworkScenario { scenario, from } => html! {
            <tools::network::NetworkTool scenario={Some(scenario.clone())} from={from.clone()} />
        },
        Route::Lesson { id, exercise } => html! {
            <crate::lesson::LessonPage id={id.clone()} exercise={*exercise} />
        },
        // A share link is opened by the shell; this shows only for the moment it takes.
        Route::Share(_) => html! {},
        Route::NotFound(_) => html! { <Missing title={None::<String>} text={t::NOT_FOUND_HELP} /> },
    }
}

#[derive(Clone, PartialEq, Properties)]
struct MissingProps {
    title: Option<String>,
    text: Text,
}

#[function_component]
fn Missing(props: &MissingProps) -> Html {
    let lang = use_app().lang;
    html! {
        <section class="lv-page lv-missing">
            <h1 tabindex="-1">{ props.title.clone().unwrap_or_else(|| t::NOT_FOUND.get(lang).to_string()) }</h1>
            <p>{ props.text.get(lang) }</p>
            <a class="lv-button" href="#/">{ t::BACK_HOME.get(lang) }</a>
        </section>
    }
}

/// The lesson list, the tools and the learner's progress.
#[function_component]
fn Home() -> Html {
    let app = use_app();
    let lang = app.lang;
    html! {
        <div class="lv-page lv-home">
            <section class="lv-hero">
                <h1 tabindex="-1">{ "Labvisor" }</h1>
                <p class="lv-lede">{ t::TAGLINE.get(lang) }</p>
            </section>
            <section aria-labelledby="lv-lessons-title">
                <h2 id="lv-lessons-title">{ t::LESSONS.get(lang) }</h2>
                if crate::lesson::lessons().is_empty() {
                    <p class="lv-muted">{ t::LESSONS_PENDING.get(lang) }</p>
                }
                <ol class="lv-lessons" role="list">
                    { for crate::lesson::lessons().iter().map(|lesson| {
                        let total = lesson.exercises.len();
                        let done = (0..total).filter(|&i| app.progress.is_done(&crate::lesson::activity_id(&lesson.id, i))).count();
                        html! {
                            <li>
                                <a class="lv-lesson-link" href={Route::Lesson { id: lesson.id.clone(), exercise: 1 }.to_hash()}>
                                    <span class="lv-lesson-num" aria-hidden="true">{ lesson.number }</span>
                                    <span class="lv-lesson-title">{ lesson.title.get(lang) }</span>
                                    <span class={classes!("lv-lesson-progress", (total > 0 && done == total).then_some("lv-all-done"))}>
                                        { if total > 0 && done == total { "✓ ".to_string() } else { String::new() } }
                                        { format!("{done}/{total}") }
                                    </span>
                                </a>
                            </li>
                        }
                    }) }
                </ol>
            </section>
            <section aria-labelledby="lv-tools-title">
                <h2 id="lv-tools-title">{ t::TOOLS.get(lang) }</h2>
                <ul class="lv-cards" role="list">
                    { for ToolId::ALL.into_iter().map(|tool| {
                        let info = tools::info(tool);
                        let done = app.progress.is_done(&tools::activity_id(tool));
                        html! {
                            <li class="lv-card">
                                <a class="lv-card-link" href={Route::Tool(tool).to_hash()}>
                                    <span class="lv-card-icon" aria-hidden="true">{ info.icon }</span>
                                    <span class="lv-card-title">{ info.title.get(lang) }</span>
                                    <span class="lv-card-text">{ info.summary.get(lang) }</span>
                                    if done {
                                        <span class="lv-badge lv-badge-done">{ "✓ " }{ t::DONE.get(lang) }</span>
                                    }
                                </a>
                            </li>
                        }
                    }) }
                </ul>
            </section>
            <ProgressPanel />
        </div>
    }
}

/// The learner's progress, with export to and import from a file.
#[function_component]
fn ProgressPanel() -> Html {
    let app = use_app();
    let lang = app.lang;
    let export = {
        let file = app.progress.to_file();
        Callback::from(move |_| {
            crate::browser::download("labvisor-progress.json", &file, "application/json")
        })
    };
    let choose = Callback::from(|_| crate::browser::click("#lv-import-file"));
    let import = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                match crate::progress::Progress::from_file(&text) {
                    Ok(progress) => app.dispatch(Action::Import(progress)),
                    Err(err) => app.dispatch(Action::Notify(Some(crate::app::Notice {
                        error: true,
                        text: t::IMPORT_FAILED,
                        detail: Some(err.to_string()),
                    }))),
                }
            });
        })
    };
    html! {
        <section class="lv-panel" aria-labelledby="lv-progress-title">
            <h2 id="lv-progress-title">{ t::PROGRESS.get(lang) }</h2>
            <p>
                <strong class="lv-progress-count">{ app.progress.completed.len() }</strong>
                { " " }{ t::COMPLETED_N.get(lang) }
            </p>
            <p class="lv-muted">{ t::PROGRESS_HELP.get(lang) }</p>
            <div class="lv-row">
                <button class="lv-button" onclick={export}>{ t::EXPORT.get(lang) }</button>
                <button class="lv-button lv-ghost" onclick={choose}>{ t::IMPORT.get(lang) }</button>
                <input id="lv-import-file" type="file" accept=".json,application/json" hidden=true
                    onchange={import} aria-label={t::IMPORT.get(lang)} />
            </div>
        </section>
    }
}
