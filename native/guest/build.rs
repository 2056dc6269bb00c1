//! Links the kernel at 1 MiB as a plain (non-PIE) executable: nothing in the guest applies
//! relocations, so every address must be final at link time. Only the kernel binary: the
//! library's tests run on the host as ordinary programs.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=link.ld");
}
