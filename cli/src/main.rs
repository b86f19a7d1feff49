//! The `tessera` binary: a thin `clap` front over `tessera_http` and the
//! core.
//!
//! Every flag has a `TESSERA_*` environment variable. `tessera serve` with no
//! arguments runs the development server on `./tessera.db`, port 8080.
//! Configuration is read in two stages ([`config`]), the server runs in
//! [`server`], and each command lives in its own file under [`commands`],
//! grouped by capability, so a new command is one file and one variant here.

mod commands;
mod config;
mod connections;
mod server;

use clap::{Parser, Subcommand};

use crate::commands::{admin, keys, migrate, serve};
use crate::config::RawConfig;

#[derive(Parser)]
#[command(name = "tessera", version, about = "Self-hostable user authentication")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (JSON API, hosted pages, admin API).
    Serve(RawConfig),
    /// Run database migrations and exit.
    Migrate(RawConfig),
    /// Signing keys and key-encryption keys.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Administration from the shell: apps and API keys.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

async fn run(cli: Cli) -> tessera_core::Result<()> {
    match cli.command {
        Command::Serve(raw) => serve::run(raw).await,
        Command::Migrate(raw) => migrate::run(raw).await,
        Command::Keys { command } => keys::run(command).await,
        Command::Admin { command } => admin::run(command).await,
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
