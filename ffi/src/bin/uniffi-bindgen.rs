//! The UniFFI bindings generator, pinned to the UniFFI version of this crate.
//!
//! `cargo run -p sealpost-ffi --features cli --bin uniffi-bindgen -- generate
//! --library <path to libsealpost_ffi.so> --language kotlin --out-dir out/`
//! (see `ffi/scripts/generate-bindings.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
