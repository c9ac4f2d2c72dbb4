//! The UniFFI bindings generator, pinned to the UniFFI version of this crate.
//!
//! `cargo run -p sealpost-ffi --features cli --bin sealpost-uniffi-bindgen -- generate
//! --library <path to libsealpost_ffi.so> --language kotlin --out-dir out/`
//! (see `ffi/scripts/generate-bindings.sh`).
//!
//! Not named `uniffi-bindgen`: maturin runs a workspace binary of that
//! name with `--features cli` from the workspace root, where the core crate
//! has no such feature; `ffi/scripts/test-wheel.sh` puts this one on `PATH`
//! as `uniffi-bindgen` instead.

fn main() {
    uniffi::uniffi_bindgen_main()
}
