//! # labvisor-web
//!
//! Labvisor in the browser: the yew single-page app that plays every lesson and tool, and the
//! wasm-bindgen embed API (`<labvisor-lab>`, [`mount`]).
//!
//! Reading top-down:
//!
//! - [`app`]: the shell — one reducer holding language, route, lab state, progress and
//!   notices, and the frame (top bar, language switch, share panel) around every page.
//! - [`pages`] and [`tools`]: the pages, each a view of the state that computes through
//!   `labvisor-core` (the web crate never re-implements the model).
//! - [`route`], [`lab`], [`progress`], [`share`]: plain data — where the learner is, what the
//!   tools hold, what is completed, and the share-link codec. These compile and are tested
//!   natively too.
//! - [`bundle`]: the curriculum and example scenarios, validated and turned into postcard at
//!   build time (`build.rs`), so no TOML or JSON parser ships to the browser.
//! - [`embed`]: `mount(element, options)` for instructors' pages.
//! - [`browser`]: `localStorage`, the URL and downloads, each failing soft.
#![deny(unsafe_code)]

pub mod app;
pub mod browser;
pub mod bundle;
pub mod embed;
pub mod lab;
pub mod lesson;
pub mod measure;
pub mod pages;
pub mod progress;
pub mod route;
pub mod share;
pub mod text;
pub mod tools;

use wasm_bindgen::prelude::*;

pub use embed::mount;

/// Starts the full site in the page's `#app` element (or `<body>` when there is none).
#[wasm_bindgen]
pub fn boot() {
    let Some(doc) = browser::document() else {
        return;
    };
    let props = app::ShellProps {
        mode: app::Mode::Full,
        route: None,
        lang: None,
    };
    match doc.get_element_by_id("app") {
        Some(root) => {
            root.set_inner_html("");
            yew::Renderer::<app::Shell>::with_root_and_props(root, props).render();
        }
        None => {
            yew::Renderer::<app::Shell>::with_props(props).render();
        }
    }
}
