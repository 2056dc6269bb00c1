//! # labvisor-lessons
//!
//! The curriculum: one folder per lesson with its prose in Korean and English and its lab and
//! exercises, and the code that loads, validates and grades them against `labvisor-core`'s
//! engines. The lessons are written in the curriculum issue; until then this crate holds only
//! its place in the workspace.
#![deny(unsafe_code)]
