//! # labvisor-web
//!
//! Labvisor in the browser: the yew single-page app that plays every lesson, and the
//! wasm-bindgen embed API (`<labvisor-lab>`). The app is written in the browser-simulator
//! issue; until then this crate holds only its place in the workspace.
#![deny(unsafe_code)]
