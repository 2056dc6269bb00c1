//! The few browser services the app uses, each failing soft: a browser without
//! `localStorage` (private mode, sandboxed iframe) still runs every lesson, it only forgets.

use labvisor_core::lang::Lang;
use wasm_bindgen::JsCast;

use crate::lab::LabState;
use crate::progress::{self, Progress};

/// The `localStorage` key of the learner's language.
const LANG_KEY: &str = "labvisor.lang";
/// The `localStorage` key of the lab state.
/// v2: postcard in base64url (v1 was JSON; a v1 entry is left alone and the lab starts fresh).
const LAB_KEY: &str = "labvisor.lab.v2";

pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

pub fn document() -> Option<web_sys::Document> {
    window()?.document()
}

fn storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok()?
}

pub fn storage_get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

pub fn storage_set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

/// The language to start in: the learner's last choice, else the browser's.
pub fn initial_lang() -> Lang {
    if let Some(lang) = storage_get(LANG_KEY).and_then(|s| s.parse().ok()) {
        return lang;
    }
    window()
        .and_then(|w| w.navigator().language())
        .map(|l| Lang::from_locale(&l))
        .unwrap_or_default()
}

pub fn save_lang(lang: Lang) {
    storage_set(LANG_KEY, lang.code());
}

pub fn load_progress() -> Progress {
    storage_get(progress::STORAGE_KEY)
        .and_then(|text| Progress::from_file(&text).ok())
        .unwrap_or_default()
}

pub fn save_progress(progress: &Progress) {
    storage_set(progress::STORAGE_KEY, &progress.to_file());
}

pub fn load_lab() -> LabState {
    storage_get(LAB_KEY)
        .and_then(|text| LabState::from_storage(&text))
        .filter(|lab| lab.validate().is_ok())
        .unwrap_or_default()
}

pub fn save_lab(lab: &LabState) {
    storage_set(LAB_KEY, &lab.to_storage());
}

/// The current URL fragment, with its `#`.
pub fn location_hash() -> String {
    window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The page URL without its fragment.
pub fn location_base() -> String {
    let href = window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    href.split('#').next().unwrap_or_default().to_string()
}

/// Replaces the fragment without adding a history entry or firing `hashchange`.
pub fn replace_hash(hash: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(hash));
    }
}

/// Navigates to a fragment (adds a history entry and fires `hashchange`).
pub fn set_hash(hash: &str) {
    if let Some(w) = window() {
        let _ = w.location().set_hash(hash);
    }
}

/// Marks the document's language, so screen readers pronounce it right.
pub fn set_document_lang(lang: Lang) {
    if let Some(el) = document().and_then(|d| d.document_element()) {
        let _ = el.set_attribute("lang", lang.code());
    }
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, text: &str, mime: &str) {
    let Some(doc) = document() else { return };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = doc
        .create_element("a")
        .map(|e| e.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Moves keyboard focus to the first element matching `selector` inside `root` (or the page).
pub fn focus(selector: &str) {
    if let Some(el) = document()
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Milliseconds since navigation started (the Performance API clock).
pub fn now_ms() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Records when the app first rendered, for the end-to-end run to read
/// (`performance.getEntriesByName("labvisor-first-render")`).
pub fn mark_first_render() {
    if let Some(p) = window().and_then(|w| w.performance()) {
        if p.get_entries_by_name("labvisor-first-render").length() == 0 {
            let _ = p.mark("labvisor-first-render");
        }
    }
}

/// Puts `text` on the clipboard where the browser allows it (it may ask or refuse).
pub fn copy_text(text: &str) {
    if let Some(w) = window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// Clicks the first element matching `selector` (opens a hidden file chooser from a button).
pub fn click(selector: &str) {
    if let Some(el) = document()
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        el.click();
    }
}

/// Offers `bytes` as a binary file download named `name`.
pub fn download_bytes(name: &str, bytes: &[u8]) {
    let Some(doc) = document() else { return };
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = doc
        .create_element("a")
        .map(|e| e.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Reports a broken build on the browser console (natively, on standard error): the page goes
/// on with what it has.
pub fn log_error(message: &str) {
    #[cfg(target_arch = "wasm32")]
    web_sys::console::error_1(&message.into());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}
