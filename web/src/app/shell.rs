//! The app shell: routing, language, notices, sharing, and the page frame around every page,
//! over the state in [`super::state`].

use labvisor_core::lang::Lang;
use yew::prelude::*;

use crate::browser;
use crate::pages;
use crate::route::Route;
use crate::share::Shared;
use crate::text as t;

use super::state::{use_app, Action, AppHandle, AppState, Mode};

/// Properties of the shell.
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ShellProps {
    pub mode: Mode,
    /// The page to show first; `None` reads it from the URL.
    #[prop_or_default]
    pub route: Option<Route>,
    /// The language to start in; `None` uses the learner's choice or the browser's.
    #[prop_or_default]
    pub lang: Option<Lang>,
}

/// The app: state, effects (storage, URL, focus) and the frame around the page.
#[function_component]
pub fn Shell(props: &ShellProps) -> Html {
    let state = {
        let props = props.clone();
        use_reducer(move || AppState {
            lang: props.lang.unwrap_or_else(browser::initial_lang),
            route: props
                .route
                .unwrap_or_else(|| Route::parse(&browser::location_hash())),
            lab: browser::load_lab(),
            progress: browser::load_progress(),
            notice: None,
            mode: props.mode,
        })
    };
    let full = state.mode == Mode::Full;

    // Follow the URL fragment (links, back/forward), and open a share link given at load.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let dispatch_hash = {
                let state = state.clone();
                move || match Route::parse(&browser::location_hash()) {
                    Route::Share(payload) => state.dispatch(Action::OpenShare(payload)),
                    route => state.dispatch(Action::Go(route)),
                }
            };
            let listener = if full {
                dispatch_hash();
                browser::window().map(|w| {
                    gloo_events::EventListener::new(&w, "hashchange", move |_| dispatch_hash())
                })
            } else {
                None
            };
            browser::mark_first_render();
            move || drop(listener)
        });
    }
    // Keep the URL showing the page (a decoded share link becomes its page's address).
    {
        let route = state.route.clone();
        use_effect_with(route, move |route| {
            if full
                && !matches!(route, Route::Share(_))
                && browser::location_hash() != route.to_hash()
            {
                browser::replace_hash(&route.to_hash());
            }
        });
    }
    // After navigation, move focus to the new page's heading, as a screen reader expects.
    {
        let first = use_mut_ref(|| true);
        use_effect_with(state.route.clone(), move |_| {
            if full && !std::mem::replace(&mut *first.borrow_mut(), false) {
                browser::focus("main h1");
            }
        });
    }
    use_effect_with(state.progress.clone(), browser::save_progress);
    use_effect_with(state.lab.clone(), browser::save_lab);
    use_effect_with(state.lang, move |lang| {
        browser::save_lang(*lang);
        if full {
            browser::set_document_lang(*lang);
        }
    });

    let lang = state.lang;
    let page = pages::page(&state.route);
    html! {
        <ContextProvider<AppHandle> context={state.clone()}>
            <div class={classes!("lv-app", (!full).then_some("lv-embed"))} lang={lang.code()}>
                if full {
                    <button class="lv-skip" onclick={Callback::from(|_| browser::focus("main h1"))}>
                        { t::SKIP.get(lang) }
                    </button>
                }
                <Header />
                <NoticeBar />
                <main class="lv-main" id="lv-main">{ page }</main>
                if full {
                    <footer class="lv-footer">
                        <span>{ "Labvisor · " }{ t::FOOTER.get(lang) }</span>
                    </footer>
                }
            </div>
        </ContextProvider<AppHandle>>
    }
}

/// The top bar: brand, navigation, share and the language switch.
#[function_component]
fn Header() -> Html {
    let app = use_app();
    let lang = app.lang;
    let full = app.mode == Mode::Full;
    let sharing = use_state(|| false);
    let switch = |to: Lang| {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::SetLang(to)))
    };
    let toggle_share = {
        let sharing = sharing.clone();
        Callback::from(move |_| sharing.set(!*sharing))
    };
    let brand = if full {
        html! { <a class="lv-brand" href="#/"><Logo />{ "Labvisor" }</a> }
    } else {
        let href = format!("{}{}", crate::embed::site_base(), app.route.to_hash());
        html! {
            <a class="lv-brand" href={href} target="_blank" rel="noopener"
               title={t::OPEN_FULL.get(lang)}><Logo />{ "Labvisor" }</a>
        }
    };
    html! {
        <header class="lv-topbar">
            { brand }
            if full {
                <nav aria-label={t::NAV_LABEL.get(lang)} class="lv-nav">
                    <a href="#/" aria-current={(app.route == Route::Home).then_some("page")}>
                        { t::HOME.get(lang) }
                    </a>
                </nav>
            }
            <div class="lv-topbar-actions">
                if full {
                    <button class="lv-button lv-ghost" aria-expanded={sharing.to_string()}
                        aria-controls="lv-share" onclick={toggle_share.clone()}>
                        { t::SHARE.get(lang) }
                    </button>
                }
                <div class="lv-lang" role="group" aria-label={t::LANGUAGE.get(lang)}>
                    <button aria-pressed={(lang == Lang::En).to_string()} onclick={switch(Lang::En)}
                        lang="en">{ "EN" }</button>
                    <button aria-pressed={(lang == Lang::Ko).to_string()} onclick={switch(Lang::Ko)}
                        lang="ko">{ "한국어" }</button>
                </div>
            </div>
            if *sharing {
                <SharePanel on_close={toggle_share} />
            }
        </header>
    }
}

/// The Labvisor mark: a host box holding two VMs.
#[function_component]
fn Logo() -> Html {
    html! {
        <svg class="lv-logo" viewBox="0 0 24 24" aria-hidden="true" width="24" height="24">
            <rect x="2" y="3" width="20" height="18" rx="3" fill="none" stroke="currentColor" stroke-width="2"/>
            <rect x="5.5" y="7" width="5.5" height="10" rx="1.5" fill="currentColor"/>
            <rect x="13" y="7" width="5.5" height="10" rx="1.5" fill="currentColor" opacity="0.55"/>
        </svg>
    }
}

#[derive(Clone, PartialEq, Properties)]
struct SharePanelProps {
    on_close: Callback<MouseEvent>,
}

/// The share link of the current page and lab, ready to copy.
#[function_component]
fn SharePanel(props: &SharePanelProps) -> Html {
    let app = use_app();
    let lang = app.lang;
    let copied = use_state(|| false);
    let shared = Shared {
        route: app.route.to_hash(),
        lab: app.lab.clone(),
        completed: app.progress.completed.iter().cloned().collect(),
    };
    let link = format!("{}#/share/{}", browser::location_base(), shared.encode());
    let copy = {
        let link = link.clone();
        let copied = copied.clone();
        Callback::from(move |_| {
            browser::copy_text(&link);
            copied.set(true);
        })
    };
    use_effect_with((), |_| browser::focus("#lv-share-link"));
    html! {
        <section id="lv-share" class="lv-share" aria-labelledby="lv-share-title">
            <h2 id="lv-share-title">{ t::SHARE_TITLE.get(lang) }</h2>
            <p>{ t::SHARE_HELP.get(lang) }</p>
            <label for="lv-share-link" class="lv-label">{ t::SHARE_LINK.get(lang) }</label>
            <div class="lv-row">
                <input id="lv-share-link" class="lv-input lv-grow" readonly=true value={link}
                    onfocus={Callback::from(|e: FocusEvent| {
                        if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                            input.select();
                        }
                    })} />
                <button class="lv-button" onclick={copy}>
                    { if *copied { t::COPIED.get(lang) } else { t::COPY.get(lang) } }
                </button>
                <button class="lv-button lv-ghost" onclick={props.on_close.clone()}>{ t::CLOSE.get(lang) }</button>
            </div>
        </section>
    }
}

/// The current notice, if any, announced to screen readers.
#[function_component]
fn NoticeBar() -> Html {
    let app = use_app();
    let Some(notice) = app.notice.clone() else {
        return html! {};
    };
    let dismiss = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Notify(None)))
    };
    let (role, class) = if notice.error {
        ("alert", "lv-notice lv-notice-error")
    } else {
        ("status", "lv-notice lv-notice-info")
    };
    html! {
        <div class={class} role={role}>
            <span class="lv-notice-icon" aria-hidden="true">{ if notice.error { "!" } else { "✓" } }</span>
            <p>
                { notice.text.get(app.lang) }
                if let Some(detail) = &notice.detail {
                    { ": " }<span class="lv-notice-detail">{ detail }</span>
                }
            </p>
            <button class="lv-button lv-ghost" onclick={dismiss}>{ t::DISMISS.get(app.lang) }</button>
        </div>
    }
}
