//! Reading the host spec file and naming its revision.

use std::path::{Path, PathBuf};
use std::ffi::OsStr;
use std::process::{Command, Output, Stdio};

use mailroom_spec::HostSpec;
use mailroom_spec::SpecErrors;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A valid spec and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: HostSpec,
    pub revision: Revision,
}

/// Identifies which spec is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// `sha256:<hex>` of the file's bytes.
    pub content_hash: String,
    /// Commit of HEAD when the file is tracked by git and unmodified there.
    pub git_commit: Option<String>,
}

impl Revision {
    /// Returns the short form used in logs and the runtime config.
    pub fn short(&self) -> String {
        match &self.git_commit {
            Some(commit) => format!("git:{}", &commit[..commit.len().min(12)]),
            None => self.content_hash.chars().take(19).collect(),
        }
    }
}

/// Reads, validates and identifies the spec at `path`. The spec and its
/// content hash come from one read, so an edit in between cannot pair a spec
/// with another file's revision.
pub fn load(path: &Path) -> Result<LoadedSpec, SpecErrors> {
    let bytes = mailroom_spec::read_file(path)?;
    let spec = mailroom_spec::load_slice(&bytes)?;
    Ok(LoadedSpec { spec, revision: revision_of(path, &bytes) })
}

/// Returns the content hash of `bytes`, which is cheap enough to compare on
/// every resync.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn revision_of(path: &Path, bytes: &[u8]) -> Revision {
    Revision { content_hash: content_hash(bytes), git_commit: git_commit(path) }
}

/// Returns HEAD's commit when `path` is tracked and has no uncommitted change.
fn git_commit(path: &Path) -> Option<String> {
    let folder: PathBuf = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let file_name: &OsStr = path.file_name()?;
    let git = |args: &[&OsStr]| -> Option<Output> {
        Command::new("git").arg("-C").arg(&folder).args(args).stderr(Stdio::null()).output().ok()
    };

    let listed = git(&["ls-files".as_ref(), "--error-unmatch".as_ref(), "--".as_ref(), file_name])?;
    if !listed.status.success() {
        return None;
    }

    let diff = git(&["diff".as_ref(), "--quiet".as_ref(), "HEAD".as_ref(), "--".as_ref(), file_name])?;
    if !diff.status.success() {
        return None;
    }

    let head = git(&["rev-parse".as_ref(), "HEAD".as_ref()])?;
    head.status.success().then(|| String::from_utf8_lossy(&head.stdout).trim().to_owned())
}
