//! The `hitl` binary: read the configuration, build the server, serve until SIGTERM or Ctrl-C.

use clap::Parser;
use server::config::Config;
use server::startup;
use tracing_subscriber::EnvFilter;

// Writes are built on the writer thread and freed on the runtime's threads; glibc's allocator
// serialized them on its arena locks (seen in `perf` as futex waits under load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let config = Config::parse();
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("hitl: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(target) = &config.migrate_to {
        for copied in server::migrate::copy(&config.database_url, target).await? {
            println!("{:<16} {:>10} rows copied", copied.table, copied.target);
        }
        println!("copied, and every table counted the same on both sides");
        return Ok(());
    }
    let server = startup::build(&config).await?;
    if let Some(token) = &server.new_token {
        println!("API token (shown once, keep it): {token}");
    }
    if let Some((email, password)) = &server.new_admin {
        println!(
            "First admin (shown once, change the password after signing in): {email} / {password}"
        );
    }
    let listener = startup::bind(&config).await?;
    let addr = listener.local_addr()?;
    println!("hitl is listening: console at http://{addr}/modules/hitl");
    startup::serve(listener, server, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
