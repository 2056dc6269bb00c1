//! Component tests in a real browser: `cargo xtask test-web` (headless Chromium), or
//! `wasm-pack test --chrome --headless web`.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use labvisor_core::lang::Lang;
use labvisor_web::app::{Mode, Shell, ShellProps};
use labvisor_web::route::{Route, ToolId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element to render into, attached to the test page.
fn container() -> web_sys::Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div
}

/// Lets yew's scheduler render.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

fn mount(route: Route, lang: Lang) -> (web_sys::Element, yew::AppHandle<Shell>) {
    let root = container();
    let props = ShellProps {
        mode: Mode::Embed,
        route: Some(route),
        lang: Some(lang),
    };
    let app = yew::Renderer::<Shell>::with_root_and_props(root.clone(), props).render();
    (root, app)
}

fn text(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .text_content()
        .unwrap_or_default()
}

fn click(root: &web_sys::Element, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
}

#[wasm_bindgen_test]
async fn language_switch_relabels_without_losing_the_page() {
    let (root, app) = mount(Route::Tool(ToolId::Ports), Lang::En);
    settle().await;
    let english = text(&root, "main h1");
    click(&root, ".lv-lang button[lang=ko]");
    settle().await;
    let korean = text(&root, "main h1");
    assert_ne!(english, korean);
    assert_eq!(root.get_attribute("lang"), None);
    assert_eq!(
        root.first_element_child()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("ko")
    );
    click(&root, ".lv-lang button[lang=en]");
    settle().await;
    assert_eq!(text(&root, "main h1"), english);
    app.destroy();
}

#[wasm_bindgen_test]
async fn unknown_embed_target_shows_a_way_back() {
    let (root, app) = mount(Route::NotFound("tool/nope".into()), Lang::En);
    settle().await;
    assert!(root.query_selector("main a[href='#/']").unwrap().is_some());
    app.destroy();
}

fn type_into(root: &web_sys::Element, selector: &str, value: &str) {
    let input = root
        .query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .dyn_into::<web_sys::HtmlInputElement>()
        .unwrap();
    input.set_value(value);
    let event = web_sys::Event::new("input").unwrap();
    input.dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn ipv4_tool_explains_a_bad_address_in_korean_and_classifies_a_good_one() {
    let (root, app) = mount(Route::Tool(ToolId::Ipv4), Lang::Ko);
    settle().await;
    type_into(&root, "#lv-ipv4-input", "010.0.0.1");
    settle().await;
    let error = text(&root, "#lv-ipv4-error");
    assert!(error.contains("앞에 0이"), "{error}");
    type_into(&root, "#lv-ipv4-input", "8.8.8.8");
    settle().await;
    assert_eq!(text(&root, "#lv-ipv4-error"), "");
    assert!(text(&root, ".lv-tag-public").contains("공인"));
    app.destroy();
}

#[wasm_bindgen_test]
async fn hypervisor_sorter_grades_with_the_core() {
    let (root, app) = mount(Route::Tool(ToolId::Hypervisors), Lang::En);
    settle().await;
    click(&root, ".lv-sort-card .lv-kind-2");
    settle().await;
    // The first catalog product is Xen, a type 1 hypervisor: sorting it as type 2 is wrong.
    assert!(text(&root, ".lv-wrong").contains("Xen"));
    click(&root, ".lv-wrong .lv-icon-button");
    settle().await;
    click(&root, ".lv-sort-card .lv-kind-1");
    settle().await;
    assert!(text(&root, ".lv-right").contains("Xen"));
    app.destroy();
}

fn choose(root: &web_sys::Element, selector: &str, value: &str) {
    let select = root
        .query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .dyn_into::<web_sys::HtmlSelectElement>()
        .unwrap();
    select.set_value(value);
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

fn count(root: &web_sys::Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn network_lab_renames_and_removes_a_vm_through_the_engine() {
    let (root, app) = mount(Route::Tool(ToolId::Network), Lang::En);
    settle().await;
    choose(&root, "#lv-net-example", "host-only");
    settle().await;
    assert_eq!(count(&root, "fieldset.lv-net-vm"), 2);
    // A name with a space is refused, with the core's reason.
    type_into(&root, "#lv-net-vm1-name", "my vm");
    click(&root, "#lv-net-vm1-name ~ button");
    settle().await;
    let refused = text(&root, "#lv-net-feedback");
    assert!(refused.contains("contains ' '"), "{refused}");
    type_into(&root, "#lv-net-vm1-name", "db");
    click(&root, "#lv-net-vm1-name ~ button");
    settle().await;
    assert!(text(&root, "fieldset.lv-net-vm:nth-of-type(2) legend").contains("VM db"));
    assert!(text(&root, ".lv-trace").contains("rename VM vm2 to db"));
    // Removing asks first, listing what the core will remove with it.
    click(&root, "button[aria-label='Remove VM db']");
    settle().await;
    let confirm = text(&root, ".lv-net-confirm");
    assert!(
        confirm.contains("NIC eth0 (Host-only adapter vboxnet0)"),
        "{confirm}"
    );
    click(&root, ".lv-net-confirm .lv-danger");
    settle().await;
    assert_eq!(count(&root, "fieldset.lv-net-vm"), 1);
    assert!(text(&root, "#lv-net-feedback").contains("Removed db"));
    // The scenario's title follows the language.
    click(&root, ".lv-lang button[lang=ko]");
    settle().await;
    assert_eq!(
        text(&root, "h2.lv-net-title"),
        "인터넷용 NAT NIC와 호스트용 호스트 전용 NIC를 가진 VM"
    );
    app.destroy();
}
