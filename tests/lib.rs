//! Workspace-level tests live beside this file, one `[[test]]` target each; this library
//! holds what they share.
#![deny(unsafe_code)]
