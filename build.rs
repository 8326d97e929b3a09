//! Tells the test crates whether PostgreSQL is there to test against: with
//! `HERALD_TEST_POSTGRES_URL` set, `cfg(herald_postgres)` holds and the PostgreSQL variants run;
//! without it they are reported as ignored (with the reason) instead of passing silently.
//! Likewise `HERALD_TEST_CHROMIUM` (a Chromium binary) sets `cfg(herald_chromium)` and switches
//! the report page's browser test on.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(herald_postgres)");
    println!("cargo::rustc-check-cfg=cfg(herald_chromium)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=HERALD_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=HERALD_TEST_CHROMIUM");
    let set = |var: &str| std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
    if set("HERALD_TEST_POSTGRES_URL") {
        println!("cargo::rustc-cfg=herald_postgres");
    }
    if set("HERALD_TEST_CHROMIUM") {
        println!("cargo::rustc-cfg=herald_chromium");
    }
}
