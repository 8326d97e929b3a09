use clap::Parser;

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
