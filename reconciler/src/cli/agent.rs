//! `mailroom run`.

use std::path::Path;
use std::process::ExitCode;

pub fn run(spec: &Path) -> ExitCode {
    match super::runtime().block_on(crate::agent::run(spec)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mailroom run: {error}");
            ExitCode::FAILURE
        }
    }
}
