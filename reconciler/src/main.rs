//! `mailroom`: one binary for every role of the mail host.
//!
//! The reconciler subcommands (`check`, `plan`, `apply`, `run`, `status`) read
//! the host spec; `smtpd`, `imapd` and `queued` are the daemons that `run`
//! supervises.

mod agent;
mod backoff;
mod cli;
mod controllers;
mod http;
mod render;
mod spec_source;
mod state;
mod status;
mod systemd;
mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A self-hosted mail server run from one declarative host spec.
#[derive(Debug, Parser)]
#[command(name = "mailroom", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a host spec: JSON Schema, then the rules the schema cannot express.
    Check {
        /// Path of the host spec (JSON).
        spec: PathBuf,
    },
    /// Print the JSON Schema of the host spec.
    Schema,
    /// Show what `apply` would change, without changing anything.
    Plan { spec: PathBuf },
    /// Make one reconcile pass without starting daemons, and tell a running
    /// `mailroom run` for the same state directory to reload.
    Apply { spec: PathBuf },
    /// Run the reconciler and the mail daemons in the foreground.
    Run { spec: PathBuf },
    /// Show the status reported by a running `mailroom run`.
    Status {
        /// Host spec whose status listener to ask.
        #[arg(long, conflicts_with = "url")]
        spec: Option<PathBuf>,
        /// Status URL to ask instead, such as http://127.0.0.1:8787/status.
        #[arg(long)]
        url: Option<String>,
        /// Print the raw JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Hash a password read from standard input, for an account's `password_hash`.
    HashPassword,
    /// Run the SMTP daemon (started by `mailroom run`).
    Smtpd {
        #[arg(long)]
        runtime_config: PathBuf,
    },
    /// Run the IMAP daemon (started by `mailroom run`).
    Imapd {
        #[arg(long)]
        runtime_config: PathBuf,
    },
    /// Run the outbound queue's delivery loop (started by `mailroom run`).
    Queued {
        #[arg(long)]
        runtime_config: PathBuf,
    },
    /// List the outbound queue, or retry or delete entries.
    Queue {
        /// Host spec whose state directory contains the queue.
        #[arg(long)]
        spec: PathBuf,
        #[command(subcommand)]
        action: Option<cli::queue::QueueAction>,
    },
    /// Print the SES SMTP password for the IAM secret access key read from
    /// standard input.
    SesSmtpPassword {
        /// AWS region of the SES endpoint, such as us-east-1.
        #[arg(long)]
        region: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Check { spec } => cli::spec::check(&spec),
        Command::Schema => cli::spec::schema(),
        Command::Plan { spec } => cli::spec::plan(&spec),
        Command::Apply { spec } => cli::spec::apply(&spec),
        Command::Run { spec } => cli::agent::run(&spec),
        Command::Status { spec, url, json } => cli::status::show(spec.as_deref(), url.as_deref(), json),
        Command::HashPassword => cli::spec::hash_password(),
        Command::Smtpd { runtime_config } => cli::daemon::smtpd(&runtime_config),
        Command::Imapd { runtime_config } => cli::daemon::imapd(&runtime_config),
        Command::Queued { runtime_config } => cli::daemon::queued(&runtime_config),
        Command::Queue { spec, action } => cli::queue::run(&spec, action),
        Command::SesSmtpPassword { region } => cli::queue::ses_smtp_password(&region),
    }
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
