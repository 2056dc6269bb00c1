//! Lesson files and action logs come from users: no input makes the loader, the actions-file
//! reader or the grader panic.

use std::collections::BTreeMap;

use labvisor_core::disk::image::Allocation;
use labvisor_core::net::forward::PortForward;
use labvisor_core::net::packet::Proto;
use labvisor_core::net::vbox::Mode;
use labvisor_lessons::action::{lesson_mode, parse_actions_file, Action, ForwardStep};
use labvisor_lessons::{curriculum, grade, load_lesson, LessonSource};
use proptest::prelude::*;

fn source(toml: String) -> LessonSource {
    let mut files = BTreeMap::new();
    files.insert("lesson.toml".to_string(), toml);
    files.insert("en.md".to_string(), "# x\n".to_string());
    files.insert("ko.md".to_string(), "# x\n".to_string());
    LessonSource {
        dir: "fuzz/01-x".into(),
        folder: "01-x".into(),
        files,
    }
}

fn mode() -> impl Strategy<Value = Mode> {
    prop::sample::select(vec![
        "nat",
        "nat-network",
        "bridged",
        "host-only",
        "internal",
        "not-attached",
    ])
    .prop_map(|name| lesson_mode(name).expect("a mode's name"))
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("vm1".to_string()),
        Just("vm2".to_string()),
        Just("web".to_string()),
        Just("ssd".to_string()),
        Just("nas".to_string()),
        "[a-z0-9]{0,6}",
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        ".{0,12}".prop_map(Action::Answer),
        (name(), 0u32..20, 0u64..40_000).prop_map(|(name, vcpus, ram_mib)| Action::AddVm {
            name,
            vcpus,
            ram_mib
        }),
        (name(), 0u8..4, mode()).prop_map(|(vm, nic, mode)| Action::SetMode { vm, nic, mode }),
        (name(), mode()).prop_map(|(vm, mode)| Action::AddNic { vm, mode }),
        (name(), any::<bool>(), any::<u16>(), 0u8..8, any::<u16>()).prop_map(
            |(name, tcp, host_port, last, guest_port)| {
                Action::AddForward(ForwardStep {
                    rule: PortForward {
                        name,
                        proto: if tcp { Proto::Tcp } else { Proto::Udp },
                        host_ip: None,
                        host_port,
                        guest_ip: Some(std::net::Ipv4Addr::new(10, 0, 2, last)),
                        guest_port,
                    },
                    vm: None,
                })
            }
        ),
        name().prop_map(|name| Action::RemoveForward { name }),
        (name(), "[0-9]{1,4}[KMGT]?", any::<bool>()).prop_map(|(vm, size, dynamic)| {
            Action::CreateDisk {
                vm,
                size,
                alloc: if dynamic {
                    Allocation::Dynamic
                } else {
                    Allocation::Fixed
                },
            }
        }),
        name().prop_map(|vm| Action::ZeroFreeSpace { vm }),
        name().prop_map(|vm| Action::Compact { vm }),
        name().prop_map(|vm| Action::Snapshot { vm }),
        (name(), name()).prop_map(|(vm, to)| Action::Backup { vm, to }),
        Just(Action::HostDiskFails),
        (name(), name()).prop_map(|(vm, from)| Action::Restore { vm, from }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_loader_never_panics_on_arbitrary_text(text in "(?s).{0,400}") {
        let _ = load_lesson(&source(text));
    }

    #[test]
    fn the_loader_never_panics_on_mutated_real_lessons(cut in 0usize..4000, insert in ".{0,8}") {
        let real = labvisor_lessons::embedded_sources().remove(8).files["lesson.toml"].clone();
        let at = real.char_indices().map(|(i, _)| i).nth(cut % real.chars().count()).unwrap_or(0);
        let mutated = format!("{}{insert}{}", &real[..at], &real[at..]);
        let _ = load_lesson(&source(mutated));
    }

    #[test]
    fn the_actions_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), ext in prop_oneof![Just("a.json"), Just("a.toml"), Just("a.bin")]) {
        let _ = parse_actions_file(ext, &bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn grading_never_panics_on_arbitrary_logs(actions in proptest::collection::vec(action(), 0..6)) {
        let course = curriculum().expect("embedded lessons load");
        for lesson in &course.lessons {
            for exercise in &lesson.exercises {
                let first = grade(exercise, &actions);
                // And it is deterministic.
                prop_assert_eq!(first, grade(exercise, &actions));
            }
        }
    }
}
