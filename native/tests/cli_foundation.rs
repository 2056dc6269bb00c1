//! The foundation commands (`ip`, `port`, `hypervisor`, `host plan`, `doctor`) run as a user
//! runs them: the built binary, a fixed `LANG`, stdout, stderr and the exit status.

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn labvisor(lang: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .env_remove("LC_ALL")
        .env("LANG", lang)
        .output()
        .expect("the labvisor binary runs");
    Run {
        code: out
            .status
            .code()
            .expect("labvisor exits normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

impl Run {
    /// Everything a user sees, in one snapshot.
    fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn en(args: &[&str]) -> String {
    labvisor("en_US.UTF-8", args).transcript()
}

fn ko(args: &[&str]) -> String {
    labvisor("ko_KR.UTF-8", args).transcript()
}

#[test]
fn ip_human() {
    insta::assert_snapshot!("ip_private_class_c", en(&["ip", "192.168.0.10"]));
    insta::assert_snapshot!("ip_public_class_a_ko", ko(&["ip", "8.8.8.8"]));
    insta::assert_snapshot!("ip_subnet", en(&["ip", "10.0.2.15/24"]));
    insta::assert_snapshot!("ip_point_to_point", en(&["ip", "10.0.0.0/31"]));
    insta::assert_snapshot!("ip_split", en(&["ip", "192.168.0.0/24", "--split", "4"]));
    insta::assert_snapshot!(
        "ip_same_subnet_ko",
        ko(&["ip", "192.168.0.10/24", "--same-subnet", "192.168.1.20"])
    );
    insta::assert_snapshot!("ip_multicast", en(&["ip", "224.0.0.251"]));
}

#[test]
fn ip_json() {
    insta::assert_snapshot!("ip_json", en(&["ip", "192.168.0.10/24", "--json"]));
    insta::assert_snapshot!(
        "ip_split_json",
        en(&["--json", "ip", "10.0.0.0/30", "--split", "2"])
    );
}

#[test]
fn port_human() {
    insta::assert_snapshot!("port_22", en(&["port", "22"]));
    insta::assert_snapshot!("port_3306_ko", ko(&["port", "3306"]));
    insta::assert_snapshot!("port_by_name", en(&["port", "postgres"]));
    insta::assert_snapshot!("port_ephemeral", en(&["port", "50000"]));
    insta::assert_snapshot!("port_catalog", en(&["port"]));
}

#[test]
fn port_json() {
    insta::assert_snapshot!("port_dns_json", en(&["port", "dns", "--json"]));
}

#[test]
fn hypervisor_human() {
    insta::assert_snapshot!("hypervisor_catalog", en(&["hypervisor"]));
    insta::assert_snapshot!("hypervisor_catalog_ko", ko(&["hypervisor"]));
    insta::assert_snapshot!("hypervisor_kvm", en(&["hypervisor", "kvm"]));
    insta::assert_snapshot!("hypervisor_qemu_ko", ko(&["hypervisor", "qemu"]));
    insta::assert_snapshot!(
        "hypervisor_two_words",
        en(&["hypervisor", "VMware", "ESXi"])
    );
    insta::assert_snapshot!(
        "hypervisor_description",
        en(&["hypervisor", "runs as an application on Windows"])
    );
}

#[test]
fn hypervisor_json() {
    insta::assert_snapshot!(
        "hypervisor_virtualbox_json",
        en(&["hypervisor", "virtualbox", "--json"])
    );
    insta::assert_snapshot!(
        "hypervisor_classification_json",
        en(&["hypervisor", "installed directly on the hardware", "--json"])
    );
}

const COURSE_HOST: &[&str] = &[
    "host", "plan", "--cpus", "8", "--mem", "16G", "--vm", "1:2G", "--vm", "1:2G", "--vm", "1:2G",
    "--vm", "1:2G", "--vm", "1:2G", "--vm", "1:2G",
];

#[test]
fn host_plan_human() {
    insta::assert_snapshot!("host_plan_course", en(COURSE_HOST));
    insta::assert_snapshot!("host_plan_course_ko", ko(COURSE_HOST));
    insta::assert_snapshot!(
        "host_plan_overcommit",
        en(&[
            "host",
            "plan",
            "--cpus",
            "4",
            "--mem",
            "8G",
            "--disk",
            "10G",
            "--vm",
            "4:4G",
            "--vm",
            "web=2:4G:20G",
        ])
    );
    insta::assert_snapshot!(
        "host_plan_overcommit_allowed",
        en(&[
            "host",
            "plan",
            "--cpus",
            "4",
            "--mem",
            "8G",
            "--reserve",
            "25%",
            "--vm",
            "2:4G",
            "--vm",
            "2:4G",
            "--allow-ram-overcommit",
        ])
    );
}

#[test]
fn host_plan_json() {
    let mut args = COURSE_HOST.to_vec();
    args.push("--json");
    insta::assert_snapshot!("host_plan_course_json", en(&args));
}

#[test]
fn host_plan_defaults_to_this_machine() {
    let run = labvisor("en_US.UTF-8", &["host", "plan", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["host_source"], "/proc");
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let processors = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    assert_eq!(plan["host"]["logical_cpus"], processors);
    let reserve = plan["reserve"]["cpus"].as_u64().unwrap();
    assert_eq!(reserve, (processors as u64 * 20).div_ceil(100));
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let cases: &[&[&str]] = &[
        &["ip", "256.1.1.1"],
        &["ip", "1.2.3"],
        &["ip", "010.0.0.1"],
        &["ip", "10.0.0.0/33"],
        &["ip", "10.0.0.1", "--split", "4"],
        &["ip", "10.0.0.0/24", "--split", "many"],
        &["ip", "10.0.0.0/24", "--split", "1000"],
        &["ip", "10.0.0.0/24", "--same-subnet", "10.0.0"],
        &["port", "65536"],
        &["port", "-1"],
        &["port", "gopher"],
        &["hypervisor", "something", "fast"],
        &["host", "plan", "--cpus", "0", "--mem", "1G"],
        &["host", "plan", "--cpus", "8", "--mem", "16Q"],
        &[
            "host", "plan", "--cpus", "8", "--mem", "16G", "--vm", "0:1G",
        ],
        &["host", "plan", "--cpus", "8", "--mem", "16G", "--vm", "2G"],
        &[
            "host",
            "plan",
            "--cpus",
            "8",
            "--mem",
            "16G",
            "--reserve",
            "120%",
        ],
    ];
    let mut transcript = String::new();
    for args in cases {
        let run = labvisor("en_US.UTF-8", args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?} printed {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("labvisor: error: "),
            "{args:?}: {}",
            run.stderr
        );
        transcript.push_str(&format!("$ labvisor {}\n{}", args.join(" "), run.stderr));
    }
    insta::assert_snapshot!("usage_errors", transcript);
}

#[test]
fn clap_usage_errors_exit_2() {
    for args in [
        &["ip"][..],
        &["--lang", "fr", "port", "22"],
        &["frobnicate"],
    ] {
        let run = labvisor("en_US.UTF-8", args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("labvisor: error: ") && run.stderr.lines().count() == 1,
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"));
    }
    // `host` alone shows which subcommands exist, as a usage error.
    let run = labvisor("en_US.UTF-8", &["host"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("plan"), "{}", run.stderr);
}

#[test]
fn lang_flag_overrides_locale() {
    let run = labvisor("ko_KR.UTF-8", &["--lang", "en", "port", "22"]);
    assert!(run.stdout.contains("Range"), "{}", run.stdout);
    let run = labvisor("C", &["port", "22", "--lang", "ko"]);
    assert!(run.stdout.contains("범위"), "{}", run.stdout);
}

#[test]
fn doctor_reports_this_machine() {
    let run = labvisor("en_US.UTF-8", &["doctor", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();

    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: Vec<&str> = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(report["cpu"]["vmx"], flags.contains(&"vmx"));
    assert_eq!(report["cpu"]["svm"], flags.contains(&"svm"));
    assert_eq!(report["cpu"]["hypervisor"], flags.contains(&"hypervisor"));
    assert_eq!(
        report["kvm"]["device_exists"],
        Path::new("/dev/kvm").exists()
    );
    for flavour in ["kvm_intel", "kvm_amd", "kvm_pvm"] {
        let loaded = Path::new("/sys/module").join(flavour).exists();
        let listed = report["kvm"]["flavours"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == flavour);
        assert_eq!(loaded, listed, "{flavour}");
    }
    if report["kvm"]["usable"] == true {
        assert_eq!(
            report["kvm"]["api_version"], 12,
            "KVM_API_VERSION has been 12 since Linux 2.6.22"
        );
    }

    let human = labvisor("en_US.UTF-8", &["doctor"]);
    assert_eq!(human.code, 0);
    for label in [
        "CPU",
        "Intel VT-x (vmx)",
        "AMD-V (svm)",
        "Inside a VM",
        "/dev/kvm",
        "KVM flavour",
    ] {
        assert!(
            human.stdout.contains(label),
            "missing {label}:\n{}",
            human.stdout
        );
    }
    let korean = labvisor("ko_KR.UTF-8", &["doctor"]);
    assert!(korean.stdout.contains("KVM 종류"), "{}", korean.stdout);

    if Path::new("/sys/module/kvm_pvm").exists() {
        assert_eq!(
            report["verdict"],
            if flags.contains(&"vmx") || flags.contains(&"svm") {
                "hardware_kvm"
            } else {
                "pvm_kvm"
            }
        );
        assert!(human.stdout.contains("kvm_pvm"), "{}", human.stdout);
        assert!(korean.stdout.contains("kvm_pvm"), "{}", korean.stdout);
        if !flags.contains(&"vmx") && !flags.contains(&"svm") {
            assert!(
                human
                    .stdout
                    .contains("neither Intel VT-x (vmx) nor AMD-V (svm)"),
                "{}",
                human.stdout
            );
        }
    } else {
        println!(
            "SKIP: /sys/module/kvm_pvm does not exist here, so the PVM wording is not checked"
        );
    }
}
