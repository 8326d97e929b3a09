use clap::Parser;

/// mimalloc: less CPU per request than the system allocator for herald's many small, short-lived
/// allocations (measured in BENCHMARKS.md), and it is built from source, needing no system library.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = herald::cli::Cli::parse();
    herald::telemetry::init();
    match herald::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {}", herald::error::error_chain(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}
