//! Test helper: puts the message on standard input into a spool, as smtpd's
//! submission role will, and prints its queue id.
//!
//! Usage: `enqueue QUEUE_ROOT SENDER RECIPIENT... < message`

use std::io::Read;
use std::process::ExitCode;

use mailroom_queue::{Envelope, Spool};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: enqueue QUEUE_ROOT SENDER RECIPIENT... < message");
        return ExitCode::FAILURE;
    }
    let mut message = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut message) {
        eprintln!("cannot read the message from standard input: {error}");
        return ExitCode::FAILURE;
    }

    let envelope = Envelope {
        sender: args[1].clone(),
        recipients: args[2..].to_vec(),
        submitted_by: Some(args[1].clone()),
        queued_at: chrono::Utc::now(),
    };
    match Spool::new(&args[0]).enqueue(&envelope, &message) {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
