//! Placeholder (the primitives comparison is written on another branch).

fn main() {}
