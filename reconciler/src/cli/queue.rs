//! `mailroom queue` and `mailroom ses-smtp-password`: the outbound queue seen
//! and changed from the command line, and the SES credential by hand.
//!
//! The queue commands change the spool files directly, and a running queue
//! daemon picks up a retry or deletion at its next pass.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;
use mailroom_queue::Spool;

use crate::spec_source;
use crate::state::StateDir;

/// Action of `mailroom queue`; none lists the queue.
#[derive(Debug, clap::Subcommand)]
pub enum QueueAction {
    /// Make one entry, or every entry, due now.
    Retry {
        /// Queue id, as `mailroom queue` lists it.
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        /// Retry every entry.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Remove an entry without delivering or bouncing it.
    Delete {
        /// Queue id, as `mailroom queue` lists it.
        id: String,
    },
}

pub fn run(spec: &Path, action: Option<QueueAction>) -> ExitCode {
    let Some(spool) = open_spool(spec) else {
        return ExitCode::FAILURE;
    };
    let outcome = match action {
        None => list(&spool),
        Some(QueueAction::Retry { id: Some(id), .. }) => spool.retry(&id).map(|()| println!("{id}: due now")),
        Some(QueueAction::Retry { id: None, .. }) => retry_all(&spool),
        Some(QueueAction::Delete { id }) => spool.remove(&id).map(|()| println!("{id}: deleted")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn open_spool(spec: &Path) -> Option<Spool> {
    let loaded = match spec_source::load(spec) {
        Ok(loaded) => loaded,
        Err(errors) => {
            for problem in &errors.problems {
                eprintln!("{}: {problem}", spec.display());
            }
            return None;
        }
    };
    match StateDir::new(&loaded.spec.state_dir) {
        Ok(state) => Some(Spool::new(state.queue_root())),
        Err(error) => {
            eprintln!("cannot resolve the state directory {}: {error}", loaded.spec.state_dir.display());
            None
        }
    }
}

/// Prints one line per entry: id, sender, recipients, attempts, next
/// attempt and last error.
fn list(spool: &Spool) -> Result<(), mailroom_queue::Error> {
    let ids = spool.list()?;
    if ids.is_empty() {
        println!("queue is empty");
        return Ok(());
    }
    println!("{:<16}  {:<30}  {:<30}  {:>8}  {:<20}  LAST ERROR", "ID", "SENDER", "RECIPIENTS", "ATTEMPTS", "NEXT ATTEMPT");
    for id in ids {
        let envelope = spool.envelope(&id)?;
        let state = spool.state(&id)?;
        let sender = if envelope.sender.is_empty() { "<>".to_owned() } else { envelope.sender };
        let next = match state.next_attempt {
            Some(next) if next > Utc::now() => next.format("%Y-%m-%d %H:%M:%S").to_string(),
            _ => "now".to_owned(),
        };
        let mut error = state.last_error.unwrap_or_default();
        if state.delivery_uncertain {
            error = format!("(delivery uncertain) {error}");
        }
        println!("{id:<16}  {sender:<30}  {:<30}  {:>8}  {next:<20}  {error}", envelope.recipients.join(","), state.attempts);
    }
    Ok(())
}

fn retry_all(spool: &Spool) -> Result<(), mailroom_queue::Error> {
    let ids = spool.list()?;
    for id in &ids {
        spool.retry(id)?;
    }
    println!("{} entries due now", ids.len());
    Ok(())
}

/// Reads an IAM secret access key from standard input and prints the SES
/// SMTP password for `region`.
pub fn ses_smtp_password(region: &str) -> ExitCode {
    if region.is_empty() || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        eprintln!("invalid region {region:?}: expected an AWS region such as us-east-1");
        return ExitCode::FAILURE;
    }
    let mut input = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("cannot read the secret access key from standard input: {error}");
        return ExitCode::FAILURE;
    }
    let secret = input.trim();
    if secret.is_empty() {
        eprintln!("empty secret access key: write it to standard input, e.g. `mailroom ses-smtp-password --region us-east-1 < file`");
        return ExitCode::FAILURE;
    }
    println!("{}", mailroom_queue::ses::smtp_password(secret, region));
    ExitCode::SUCCESS
}
