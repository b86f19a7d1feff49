//! uniffi's code generator, built against the same uniffi version as the
//! library: `cargo run -p tessera-uniffi --bin uniffi-bindgen -- generate
//! --library target/debug/libtessera_uniffi.so --language kotlin --out-dir OUT`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
