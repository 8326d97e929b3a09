use clap::Parser;

fn main() -> std::process::ExitCode {
    herald::startup::tune_allocator();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("herald: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

async fn run() -> std::process::ExitCode {
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
