//! The app's state: one reducer ([`AppState`]) that every page reads through the context
//! ([`use_app`]), the [`Action`]s that change it, and the hooks pages use to change it.
//! Switching language only changes [`AppState::lang`], so nothing a learner typed or arranged
//! is lost; pages are pure views of the state.

use std::rc::Rc;

use labvisor_core::lang::{Lang, Text};
use labvisor_lessons::course_vm::CourseVm;
use yew::prelude::*;

use crate::lab::LabState;
use crate::progress::Progress;
use crate::route::Route;
use crate::share::{ShareError, Shared};
use crate::text as t;

/// Whether the app owns the page or is one lab embedded in someone else's page.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// The full site: routing through the URL fragment, share links.
    Full,
    /// One page inside an instructor's page: no routing, no URL changes.
    Embed,
}

/// A message shown above the page until dismissed.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// An error (a broken link, a bad file) rather than information.
    pub error: bool,
    /// The message, shown in the current language.
    pub text: Text,
    /// A value or technical detail appended to the message.
    pub detail: Option<String>,
}

/// Everything the app knows.
#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    pub mode: Mode,
    pub lang: Lang,
    pub route: Route,
    pub lab: LabState,
    pub progress: Progress,
    pub notice: Option<Notice>,
}

/// Everything that changes the state.
pub enum Action {
    SetLang(Lang),
    Go(Route),
    /// Replaces the lab state.
    Lab(LabState),
    /// Edits the lab state as it is when the action is applied (so quick successive edits
    /// compose instead of overwriting each other).
    EditLab(Rc<dyn Fn(&mut LabState)>),
    /// Marks an activity completed.
    Complete(String),
    /// Saves the course VM a right answer left (`labvisor_lessons::course_vm`).
    SaveCourseVm(CourseVm),
    /// Forgets the course VM: its lessons start again from the default.
    ForgetCourseVm,
    /// Merges imported progress, reporting how much was new.
    Import(Progress),
    /// Opens a share-link payload; a bad one changes nothing but the notice.
    OpenShare(String),
    Notify(Option<Notice>),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetLang(lang) => next.lang = lang,
            Action::Go(route) => next.route = route,
            Action::Lab(lab) => next.lab = lab,
            Action::EditLab(edit) => {
                edit(&mut next.lab);
                if next.lab.validate().is_err() {
                    // A tool never offers an out-of-range value; refuse one rather than store it.
                    return self;
                }
            }
            Action::Complete(id) => {
                next.progress.complete(&id);
            }
            Action::SaveCourseVm(vm) => next.progress.course_vm = vm,
            Action::ForgetCourseVm => next.progress.course_vm = CourseVm::default(),
            Action::Import(progress) => {
                let added = next.progress.merge(&progress);
                next.notice = Some(Notice {
                    error: false,
                    text: t::IMPORTED,
                    detail: Some(added.to_string()),
                });
            }
            Action::OpenShare(payload) => match Shared::decode(&payload) {
                Ok(shared) => {
                    let added = next.progress.merge(&shared.progress());
                    next.route = shared.route();
                    next.lab = shared.lab;
                    next.notice = Some(Notice {
                        error: false,
                        text: t::SHARED_OPENED,
                        detail: Some(added.to_string()),
                    });
                }
                Err(err) => {
                    next.route = Route::Home;
                    next.notice = Some(share_error_notice(&err));
                }
            },
            Action::Notify(notice) => next.notice = notice,
        }
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

fn share_error_notice(err: &ShareError) -> Notice {
    let (text, detail) = match err {
        ShareError::UnknownVersion(v) => (t::SHARE_OTHER_VERSION, format!("format version {v}")),
        ShareError::TooLong(n) => (t::SHARE_BROKEN, format!("{n} characters")),
        ShareError::NotBase64 => (t::SHARE_BROKEN, "not base64url".into()),
        ShareError::TooShort => (t::SHARE_BROKEN, "too short".into()),
        ShareError::Damaged => (t::SHARE_BROKEN, "checksum mismatch".into()),
        ShareError::Invalid(why) => (t::SHARE_BROKEN, why.clone()),
    };
    Notice {
        error: true,
        text,
        detail: Some(detail),
    }
}

/// The app state and its dispatcher, for any component under the shell.
pub type AppHandle = UseReducerHandle<AppState>;

/// A callback that edits the lab with the event it receives.
pub fn edit_lab<E: 'static>(
    app: &AppHandle,
    edit: impl Fn(&mut LabState, E) + 'static,
) -> Callback<E> {
    let app = app.clone();
    let edit = Rc::new(edit);
    Callback::from(move |event: E| {
        let edit = edit.clone();
        let event = Rc::new(std::cell::RefCell::new(Some(event)));
        app.dispatch(Action::EditLab(Rc::new(move |lab: &mut LabState| {
            if let Some(event) = event.borrow_mut().take() {
                edit(lab, event);
            }
        })));
    })
}

/// Marks `activity` completed once `done` holds (an effect, so rendering stays pure).
#[hook]
pub fn use_completion(activity: String, done: bool) {
    let app = use_app();
    use_effect_with((activity, done), move |(activity, done)| {
        if *done && !app.progress.is_done(activity) {
            app.dispatch(Action::Complete(activity.clone()));
        }
    });
}

/// The app state from the context (every page and tool is under the shell).
#[hook]
pub fn use_app() -> AppHandle {
    use_context::<AppHandle>().expect("components are rendered inside the Shell")
}
