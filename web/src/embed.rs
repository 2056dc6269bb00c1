//! The embed API: one lab inside any page.
//!
//! ```html
//! <script type="module" src="https://…/labvisor-lab.js"></script>
//! <labvisor-lab lesson="nat" exercise="1" lang="ko"></labvisor-lab>
//! ```
//!
//! `labvisor-lab.js` defines the custom element, which calls [`mount`]; pages that manage
//! their own DOM can call `mount(element, { lesson, exercise, tool, lang })` themselves. Each
//! mounted lab is independent; the learner's progress is shared through `localStorage`.

use labvisor_core::lang::Lang;
use wasm_bindgen::prelude::*;

use crate::app::{Mode, Shell, ShellProps};
use crate::route::{Route, ToolId};

/// What an embed shows, read from the options object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbedOptions {
    pub route: Route,
    pub lang: Option<Lang>,
}

impl EmbedOptions {
    /// Reads `{ lesson, exercise, tool, lang }`; a lesson wins over a tool.
    pub fn from_fields(
        lesson: Option<&str>,
        exercise: Option<&str>,
        tool: Option<&str>,
        lang: Option<&str>,
    ) -> EmbedOptions {
        let route = match (lesson, tool) {
            (Some(lesson), _) => Route::parse(&format!(
                "#/lesson/{}/{}",
                lesson.trim(),
                exercise
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .unwrap_or("1")
            )),
            (None, Some(tool)) => ToolId::from_slug(tool.trim())
                .map(Route::Tool)
                .unwrap_or_else(|| Route::NotFound(format!("tool/{tool}"))),
            (None, None) => Route::Home,
        };
        EmbedOptions {
            route,
            lang: lang.and_then(|l| l.parse().ok()),
        }
    }
}

/// A mounted lab; `unmount()` removes it.
#[wasm_bindgen]
pub struct MountedLab {
    app: Option<yew::AppHandle<Shell>>,
}

#[wasm_bindgen]
impl MountedLab {
    /// Removes the lab from its element.
    pub fn unmount(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}

/// Mounts one lab into `element`. `options` is an object with any of `lesson` (a lesson id
/// such as `"nat"`), `exercise` (1-based), `tool` (`"ipv4"`, `"ports"`, `"sizing"`,
/// `"hypervisors"`) and `lang` (`"en"` or `"ko"`).
#[wasm_bindgen]
pub fn mount(element: web_sys::Element, options: JsValue) -> MountedLab {
    let field = |name: &str| -> Option<String> {
        let value = js_sys::Reflect::get(&options, &JsValue::from_str(name)).ok()?;
        value
            .as_string()
            .or_else(|| value.as_f64().map(|n| n.to_string()))
    };
    let opts = EmbedOptions::from_fields(
        field("lesson").as_deref(),
        field("exercise").as_deref(),
        field("tool").as_deref(),
        field("lang").as_deref(),
    );
    let props = ShellProps {
        mode: Mode::Embed,
        route: Some(opts.route),
        lang: opts.lang,
    };
    MountedLab {
        app: Some(yew::Renderer::<Shell>::with_root_and_props(element, props).render()),
    }
}

/// The site the embed script came from, for "Open in Labvisor" links: set by
/// `labvisor-lab.js` as `window.LABVISOR_BASE`, else the current page.
pub fn site_base() -> String {
    crate::browser::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("LABVISOR_BASE")).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_else(crate::browser::location_base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_pick_the_page() {
        let o = EmbedOptions::from_fields(Some("nat"), Some("2"), None, Some("ko"));
        assert_eq!(
            o.route,
            Route::Lesson {
                id: "nat".into(),
                exercise: 2
            }
        );
        assert_eq!(o.lang, Some(Lang::Ko));
        let o = EmbedOptions::from_fields(None, None, Some("sizing"), Some("fr"));
        assert_eq!(o.route, Route::Tool(ToolId::Sizing));
        assert_eq!(o.lang, None);
        let o = EmbedOptions::from_fields(None, None, Some("nope"), None);
        assert!(matches!(o.route, Route::NotFound(_)));
        let o = EmbedOptions::from_fields(Some("../x"), None, None, None);
        assert!(matches!(o.route, Route::NotFound(_)));
    }
}
