//! Tells the test crates whether PostgreSQL is there to test against: with
//! `HERALD_TEST_POSTGRES_URL` set, `cfg(herald_postgres)` holds and the PostgreSQL variants run;
//! without it they are reported as ignored (with the reason) instead of passing silently.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(herald_postgres)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=HERALD_TEST_POSTGRES_URL");
    let set = std::env::var("HERALD_TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty());
    if set {
        println!("cargo::rustc-cfg=herald_postgres");
    }
}
