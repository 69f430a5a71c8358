//! `mailroom smtpd`, `mailroom imapd` and `mailroom queued`: the daemons as
//! child processes.

use std::path::Path;
use std::process::ExitCode;

use crate::controllers::daemon::DaemonKind;

pub fn smtpd(runtime_config: &Path) -> ExitCode {
    serve(DaemonKind::Smtpd, runtime_config)
}

pub fn imapd(runtime_config: &Path) -> ExitCode {
    serve(DaemonKind::Imapd, runtime_config)
}

pub fn queued(runtime_config: &Path) -> ExitCode {
    serve(DaemonKind::Queued, runtime_config)
}

fn serve(kind: DaemonKind, runtime_config: &Path) -> ExitCode {
    let outcome = super::runtime().block_on(async {
        let context = mailroom_runtime::start(runtime_config, kind.roles()).map_err(|e| e.to_string())?;
        match kind {
            DaemonKind::Smtpd => mailroom_smtpd::serve(context).await.map_err(|e| e.to_string()),
            DaemonKind::Imapd => mailroom_imapd::serve(context).await.map_err(|e| e.to_string()),
            DaemonKind::Queued => mailroom_queue::serve(context).await.map_err(|e| e.to_string()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(daemon = kind.name(), %error, "daemon failed");
            ExitCode::FAILURE
        }
    }
}
