//! `TESSERA_SKIP_POSTGRES=1` at build time compiles the Postgres tests out
//! (they fail loudly without a server otherwise).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tessera_skip_postgres)");
    println!("cargo::rerun-if-env-changed=TESSERA_SKIP_POSTGRES");
    if std::env::var("TESSERA_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        println!("cargo::rustc-cfg=tessera_skip_postgres");
    }
}
