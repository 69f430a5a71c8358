//! The state directory and how files in it are written.
//!
//! ```text
//! <state_dir>/spec/applied.json   last applied spec and its revision
//! <state_dir>/certs/<name>/       fullchain.pem, key.pem (0600), meta.json
//! <state_dir>/run/runtime.json    the daemons' runtime config
//! <state_dir>/run/agent.pid       pid of the running `mailroom run`
//! <state_dir>/mail/               the Maildir++ store
//! ```

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Paths inside one state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Wraps `root`, made absolute against the working directory so that
    /// children started elsewhere agree on it.
    pub fn new(root: &Path) -> std::io::Result<Self> {
        let root = if root.is_absolute() { root.to_owned() } else { std::env::current_dir()?.join(root) };
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn applied_spec(&self) -> PathBuf {
        self.root.join("spec").join("applied.json")
    }

    pub fn cert_dir(&self, name: &str) -> PathBuf {
        self.root.join("certs").join(name)
    }

    pub fn runtime_config(&self) -> PathBuf {
        self.root.join("run").join("runtime.json")
    }

    pub fn agent_pid(&self) -> PathBuf {
        self.root.join("run").join("agent.pid")
    }

    pub fn mail_root(&self) -> PathBuf {
        self.root.join("mail")
    }

    pub fn queue_root(&self) -> PathBuf {
        self.root.join("queue")
    }

    pub fn dkim_root(&self) -> PathBuf {
        self.root.join("dkim")
    }
}

/// Writes `data` to `path` so that readers see the old or the new content,
/// never a mix: write a sibling temporary file with `mode`, fsync it, rename
/// it over `path`, fsync the folder.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(folder)?;
    let file_name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let temporary = folder.join(format!(".{file_name}.tmp.{}", std::process::id()));

    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&temporary)?;
    file.write_all(data)?;
    file.sync_all()?;
    drop(file);

    fs::rename(&temporary, path)?;
    fs::File::open(folder)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn write_atomic_replaces_content_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("key.pem");

        write_atomic(&path, b"old", 0o600).unwrap();
        write_atomic(&path, b"new", 0o600).unwrap();

        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn relative_root_becomes_absolute() {
        let state = StateDir::new(Path::new("dev-state")).unwrap();
        assert!(state.root().is_absolute());
        assert!(state.mail_root().ends_with("dev-state/mail"));
    }
}
