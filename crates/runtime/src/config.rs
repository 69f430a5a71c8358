//! The runtime config file that the reconciler renders for the daemons.

use std::path::{Path, PathBuf};

use mailroom_spec::HostSpec;
use serde::{Deserialize, Serialize};

use crate::Error;

/// The configuration a daemon reads at start and on every SIGHUP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// The applied host spec.
    pub spec: HostSpec,
    /// Content hash of the spec, or `git:<commit>` when known.
    pub spec_revision: String,
    /// PEM certificate chain presented to TLS clients.
    pub cert_file: PathBuf,
    /// PEM private key of that certificate.
    pub key_file: PathBuf,
    /// Root of the Maildir store, `<state_dir>/mail`.
    pub mail_root: PathBuf,
    /// Root of the outbound queue, `<state_dir>/queue`.
    pub queue_root: PathBuf,
    /// Folder of the DKIM signing keys, `<state_dir>/dkim`.
    pub dkim_root: PathBuf,
}

impl RuntimeConfig {
    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read(path).map_err(|source| Error::ReadConfig { path: path.to_owned(), source })?;
        serde_json::from_slice(&text).map_err(|source| Error::ParseConfig { path: path.to_owned(), source })
    }
}
