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

// --- the exercise step editor ---------------------------------------------------------------

fn count(root: &web_sys::Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

/// Presses the exercise's button: 1 Check, 2 Hint, 3 Reset, 4 Show solution.
fn exercise_button(root: &web_sys::Element, n: u32) {
    click(root, &format!(".lv-exercise-actions button:nth-child({n})"));
}

/// Submits the step form holding `field` as its submit button would (Enter or a click).
fn submit_form_of(root: &web_sys::Element, field: &str) {
    let form = root
        .query_selector(field)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {field}"))
        .closest("form")
        .unwrap()
        .expect("the field is in a form");
    form.query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
        .click();
}

#[wasm_bindgen_test]
async fn a_forwarding_rule_typed_in_the_editor_is_graded_and_a_bad_one_is_explained() {
    let route = Route::Lesson {
        id: "port-forwarding".into(),
        exercise: 1,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    exercise_button(&root, 3);
    settle().await;
    let id = "#lv-ex-port-forwarding-ssh-to-vm2";
    let rule = format!("{id}-rule-text");
    assert_eq!(count(&root, ".lv-step"), 0);
    // A port out of range is refused under the line with the core's parser's words, followed
    // by how both forms are written.
    type_into(&root, &rule, "ssh,tcp,,80000,10.0.2.5,22");
    settle().await;
    let said = text(&root, &format!("{rule}-read"));
    assert!(
        said.contains("\"80000\" is not a number in 1-65535"),
        "{said}"
    );
    assert!(said.contains("QEMU"), "{said}");
    submit_form_of(&root, &rule);
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 0, "a wrong rule is not added");
    let focused = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .map(|e| e.id());
    assert_eq!(
        focused.as_deref(),
        Some("lv-ex-port-forwarding-ssh-to-vm2-rule-text"),
        "focus stays on the line"
    );
    // The classic mistake, in QEMU's form: the host's port on the guest side.
    type_into(&root, &rule, "tcp::2222-10.0.2.5:2222");
    settle().await;
    assert!(text(&root, &format!("{rule}-read")).starts_with("Read as QEMU's hostfwd form"));
    submit_form_of(&root, &rule);
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 1);
    assert_eq!(
        text(&root, ".lv-step .lv-step-text"),
        "Forward TCP host port 2222 to guest 10.0.2.5 port 2222 (rule “tcp2222”)"
    );
    exercise_button(&root, 1);
    settle().await;
    let verdict = text(&root, ".lv-verdict-bad");
    assert!(verdict.contains("sshd listens on 22"), "{verdict}");
    // Remove it and add the right one: correct.
    click(&root, ".lv-step-remove");
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 0);
    type_into(&root, &rule, "ssh,tcp,,2222,10.0.2.5,22");
    settle().await;
    submit_form_of(&root, &rule);
    settle().await;
    // A second rule on the same host port clashes, by the core's conflict rules.
    type_into(&root, &rule, "web,tcp,,2222,10.0.2.5,80");
    settle().await;
    assert!(text(&root, &format!("{rule}-read")).contains("already forwarded by rule \"ssh\""));
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(
        count(&root, ".lv-verdict-ok"),
        1,
        "{}",
        text(&root, ".lv-exercise")
    );
    app.destroy();
}

#[wasm_bindgen_test]
async fn host_sizing_is_planned_in_the_editor_wrong_then_right() {
    let route = Route::Lesson {
        id: "host-sizing".into(),
        exercise: 1,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    exercise_button(&root, 3);
    settle().await;
    let id = "#lv-ex-host-sizing-six-vms-on-eight-cores";
    // Two cores each: six VMs want 12 vCPUs of the 6 left after the reserve.
    type_into(&root, &format!("{id}-vcpus"), "2");
    type_into(&root, &format!("{id}-ram"), "2048");
    for _ in 0..6 {
        settle().await;
        submit_form_of(&root, &format!("{id}-name"));
    }
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 6);
    assert!(text(&root, ".lv-totals").contains("vCPUs: 12 of the host's 8 logical CPUs"));
    exercise_button(&root, 1);
    settle().await;
    assert!(text(&root, ".lv-verdict-bad").contains("Give each guest one core"));
    // A step changed in place: its values go into the form, and it comes back where it was.
    let step_text = |i: u32| {
        root.query_selector_all(".lv-step-text")
            .unwrap()
            .item(i)
            .unwrap()
            .text_content()
            .unwrap_or_default()
    };
    let field_value = |field: &str| {
        root.query_selector(&format!("{id}-{field}"))
            .unwrap()
            .unwrap()
            .dyn_into::<web_sys::HtmlInputElement>()
            .unwrap()
            .value()
    };
    click(&root, &format!("{id}-s2-edit"));
    settle().await;
    assert_eq!(count(&root, ".lv-step-editing"), 1);
    assert_eq!(field_value("name"), "vm3");
    assert_eq!(field_value("vcpus"), "2");
    assert_eq!(field_value("ram"), "2048");
    // Its own name is not a clash with itself.
    assert_eq!(text(&root, &format!("{id}-name-error")), "");
    type_into(&root, &format!("{id}-vcpus"), "1");
    settle().await;
    submit_form_of(&root, &format!("{id}-name"));
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 6);
    assert_eq!(count(&root, ".lv-step-editing"), 0);
    assert!(
        step_text(2).starts_with("Plan vm3 with 1 vCPU"),
        "{}",
        step_text(2)
    );
    assert!(
        step_text(3).starts_with("Plan vm4 with 2 vCPU "),
        "{}",
        step_text(3)
    );
    // Keeping a step as it was leaves it, and the form, untouched.
    click(&root, &format!("{id}-s0-edit"));
    settle().await;
    type_into(&root, &format!("{id}-vcpus"), "3");
    settle().await;
    click(&root, &format!("{id}-s0-keep"));
    settle().await;
    assert!(
        step_text(0).starts_with("Plan vm1 with 2 vCPU "),
        "{}",
        step_text(0)
    );
    // The form holds again what was typed before either change.
    assert_eq!(field_value("vcpus"), "2");
    assert_eq!(field_value("ram"), "2048");
    // A change left open when the draft is reset is dropped, and the form given back.
    click(&root, &format!("{id}-s1-edit"));
    settle().await;
    assert_eq!(field_value("name"), "vm2");
    // Start over with one core each.
    exercise_button(&root, 3);
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 0);
    type_into(&root, &format!("{id}-vcpus"), "1");
    for _ in 0..6 {
        settle().await;
        submit_form_of(&root, &format!("{id}-name"));
    }
    settle().await;
    let last = root
        .query_selector_all(".lv-step-text")
        .unwrap()
        .item(5)
        .unwrap();
    assert_eq!(
        last.text_content().unwrap_or_default(),
        "Plan vm6 with 1 vCPU and 2 GiB of RAM"
    );
    assert_eq!(count(&root, ".lv-step-editing"), 0);
    assert_eq!(field_value("ram"), "2048");
    // A vCPU count beyond the host is stopped at the field.
    type_into(&root, &format!("{id}-vcpus"), "9");
    settle().await;
    assert!(text(&root, &format!("{id}-vcpus-error")).contains("from 1 to 8"));
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(count(&root, ".lv-verdict-ok"), 1);
    app.destroy();
}

#[wasm_bindgen_test]
async fn show_solution_fills_the_editor_and_order_matters_on_the_timeline() {
    let route = Route::Lesson {
        id: "snapshot-vs-backup".into(),
        exercise: 1,
    };
    let (root, app) = mount(route, Lang::Ko);
    settle().await;
    exercise_button(&root, 4);
    settle().await;
    // The solution enters its steps one at a time.
    assert_eq!(count(&root, ".lv-step"), 1);
    for _ in 0..100 {
        if count(&root, ".lv-exercise[aria-busy]") == 0 {
            break;
        }
        settle().await;
    }
    assert_eq!(count(&root, ".lv-step"), 3);
    let first = text(&root, ".lv-step .lv-step-text");
    assert!(
        first.ends_with(" nas에 백업") && !first.contains('('),
        "{first}"
    );
    // The disk failing first: the backup comes too late.
    click(
        &root,
        "#lv-ex-snapshot-vs-backup-survive-disk-failure-s1-up",
    );
    settle().await;
    assert_eq!(text(&root, ".lv-step .lv-step-text"), "호스트 디스크 고장");
    // Focus follows the moved step (to its down button: up is disabled at the top).
    let focused = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .map(|e| e.id());
    assert_eq!(
        focused.as_deref(),
        Some("lv-ex-snapshot-vs-backup-survive-disk-failure-s0-down")
    );
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(count(&root, ".lv-verdict-bad"), 1);
    click(
        &root,
        "#lv-ex-snapshot-vs-backup-survive-disk-failure-s0-down",
    );
    settle().await;
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(count(&root, ".lv-verdict-ok"), 1);
    exercise_button(&root, 3);
    settle().await;
    assert_eq!(count(&root, ".lv-step"), 0);
    assert_eq!(count(&root, ".lv-steps-empty"), 1);
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

#[wasm_bindgen_test]
async fn a_second_nic_and_two_disks_are_added_from_the_forms_choices() {
    let route = Route::Lesson {
        id: "host-only-nic".into(),
        exercise: 1,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    exercise_button(&root, 3);
    settle().await;
    let id = "#lv-ex-host-only-nic-reach-without-rules";
    // Switching NIC 1 to host-only reaches the host but loses the internet.
    choose(&root, &format!("{id}-mode"), "host-only");
    settle().await;
    submit_form_of(&root, &format!("{id}-mode"));
    settle().await;
    assert_eq!(
        text(&root, ".lv-step-text"),
        "Attach NIC 1 of vm1 to Host-only Adapter"
    );
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(count(&root, ".lv-verdict-bad"), 1);
    click(&root, ".lv-step-remove");
    settle().await;
    // A second NIC on the host-only network keeps NAT for the internet.
    choose(&root, &format!("{id}-new-nic-mode"), "host-only");
    settle().await;
    submit_form_of(&root, &format!("{id}-new-nic-mode"));
    settle().await;
    assert!(text(&root, &format!("{id}-nic")).contains("NIC 2 (Host-only Adapter)"));
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(count(&root, ".lv-verdict-ok"), 1);
    app.destroy();

    let route = Route::Lesson {
        id: "disk-allocation".into(),
        exercise: 1,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    exercise_button(&root, 3);
    settle().await;
    let id = "#lv-ex-disk-allocation-two-vms-on-256gb";
    type_into(&root, &format!("{id}-size"), "128 gigs");
    settle().await;
    assert!(text(&root, &format!("{id}-size-error")).contains("unknown unit"));
    // Two fixed 128 GiB disks do not fit on the 216 GB left.
    for vm in ["vm1", "vm2"] {
        choose(&root, &format!("{id}-vm"), vm);
        type_into(&root, &format!("{id}-size"), "128G");
        choose(&root, &format!("{id}-alloc"), "fixed");
        settle().await;
        submit_form_of(&root, &format!("{id}-size"));
        settle().await;
    }
    assert_eq!(count(&root, ".lv-step"), 2);
    exercise_button(&root, 1);
    settle().await;
    assert!(text(&root, ".lv-verdict-bad").contains("A fixed disk takes its whole size"));
    exercise_button(&root, 3);
    settle().await;
    for vm in ["vm1", "vm2"] {
        choose(&root, &format!("{id}-vm"), vm);
        type_into(&root, &format!("{id}-size"), "128G");
        choose(&root, &format!("{id}-alloc"), "dynamic");
        settle().await;
        submit_form_of(&root, &format!("{id}-size"));
        settle().await;
    }
    assert_eq!(
        text(&root, ".lv-step:last-child .lv-step-text"),
        "Create a 128G disk for vm2, dynamically allocated"
    );
    exercise_button(&root, 1);
    settle().await;
    assert_eq!(count(&root, ".lv-verdict-ok"), 1);
    app.destroy();
}

#[wasm_bindgen_test]
async fn broken_json_is_explained_and_mended_json_shows_as_steps() {
    let route = Route::Lesson {
        id: "snapshot-vs-backup".into(),
        exercise: 1,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    exercise_button(&root, 3);
    settle().await;
    let json = |value: &str| {
        let area = root
            .query_selector("#lv-ex-snapshot-vs-backup-survive-disk-failure-json")
            .unwrap()
            .unwrap()
            .dyn_into::<web_sys::HtmlTextAreaElement>()
            .unwrap();
        area.set_value(value);
        area.dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    };
    json("[{\"snapshot\": ");
    settle().await;
    assert!(text(&root, ".lv-editor [role=alert]").contains("actions.json:1:"));
    assert_eq!(
        count(&root, ".lv-step-buttons"),
        0,
        "no form overwrites the JSON"
    );
    assert_eq!(count(&root, "details.lv-json[open]"), 1);
    json("[{\"snapshot\": {\"vm\": \"web\"}}]");
    settle().await;
    assert_eq!(text(&root, ".lv-step-text"), "Take a snapshot of web");
    assert_eq!(
        count(&root, "details.lv-json[open]"),
        1,
        "the box stays open while mending"
    );
    // While the JSON is open the forms stand aside: one editor at a time beside the list.
    assert_eq!(count(&root, ".lv-step-buttons"), 0);
    assert_eq!(count(&root, ".lv-forms-aside"), 1);
    click(&root, "details.lv-json > summary");
    settle().await;
    assert_eq!(count(&root, "details.lv-json[open]"), 0);
    assert_eq!(
        count(&root, ".lv-step-buttons"),
        1,
        "closed, the forms are back"
    );
    assert_eq!(text(&root, ".lv-step-text"), "Take a snapshot of web");
    app.destroy();
}

#[wasm_bindgen_test]
async fn steps_stop_where_the_draft_would_overflow_and_say_so() {
    let route = Route::Lesson {
        id: "port-forwarding".into(),
        exercise: 2,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    exercise_button(&root, 3);
    settle().await;
    let id = "#lv-ex-port-forwarding-ssh-and-http";
    let long = "a-rule-whose-name-is-long-enough-to-fill-the-draft-quickly";
    let mut added = 0;
    let rule = format!("{id}-rule-text");
    for i in 0..16 {
        let port = 3000 + i;
        type_into(&root, &rule, &format!("{long}-{i},tcp,,{port},10.0.2.5,22"));
        settle().await;
        submit_form_of(&root, &rule);
        settle().await;
        if count(&root, ".lv-steps-full") > 0 {
            break;
        }
        added += 1;
    }
    assert!(added > 3 && added < 16, "{added} rules fit");
    let kept = root
        .query_selector(&rule)
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlInputElement>()
        .unwrap()
        .value();
    assert!(
        kept.starts_with(long),
        "the refused rule is still in the form: {kept:?}"
    );
    assert_eq!(count(&root, ".lv-step"), added);
    // The draft kept is still a valid one: the steps are all there after a re-render.
    click(&root, ".lv-step-remove");
    settle().await;
    assert_eq!(count(&root, ".lv-steps-full"), 0);
    assert_eq!(count(&root, ".lv-step"), added - 1);
    app.destroy();
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
        "인터넷용 NAT NIC과 호스트용 호스트 전용 NIC을 가진 VM"
    );
    app.destroy();
}

#[wasm_bindgen_test]
async fn two_vms_on_nat_each_get_a_rule_on_the_vm_chosen_in_the_editor() {
    let route = Route::Lesson {
        id: "port-forwarding".into(),
        exercise: 3,
    };
    let (root, app) = mount(route, Lang::En);
    settle().await;
    let id = "#lv-ex-port-forwarding-two-vms-on-nat";
    let rule = format!("{id}-rule-text");
    for (vm, name, port) in [("vm2", "ssh2", "2223"), ("vm1", "ssh", "2222")] {
        choose(&root, &format!("{id}-vm"), vm);
        type_into(&root, &rule, &format!("{name},tcp,,{port},,22"));
        settle().await;
        submit_form_of(&root, &rule);
        settle().await;
    }
    let steps = text(&root, "#exercise-3 .lv-steps");
    assert!(
        steps.contains("port 2223") && steps.contains("on vm2"),
        "{steps}"
    );
    assert!(
        steps.contains("port 2222") && steps.contains("on vm1"),
        "{steps}"
    );
    click(
        &root,
        "#exercise-3 .lv-exercise-actions button:nth-child(1)",
    );
    settle().await;
    assert_eq!(count(&root, "#exercise-3 .lv-verdict-ok"), 1);
    app.destroy();
}
