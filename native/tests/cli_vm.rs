//! Snapshots of `labvisor vm`'s help and usage errors (no KVM needed).

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_labvisor"))
        .args(args)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .output()
        .expect("labvisor runs");
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn vm_run_help_teaches_the_options() {
    insta::assert_snapshot!(run(&["vm", "run", "--help"]));
}

#[test]
fn a_bad_memory_size_is_a_usage_error() {
    insta::assert_snapshot!(run(&["vm", "run", "--mem", "64Q"]));
}

#[test]
fn initrd_without_a_kernel_is_a_usage_error() {
    insta::assert_snapshot!(run(&["vm", "run", "--initrd", "initrd.cpio"]));
}
