//! Crash-safe file operations: write into a temporary name, fsync, rename,
//! fsync the folder.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use crate::Error;

/// Creates `path` (which must not exist), writes `data` and fsyncs the file.
///
/// When `modified` is given, the file's modification time is set to it, as
/// Maildir readers take the INTERNALDATE of a message from it.
pub fn write_synced(path: &Path, data: &[u8], modified: Option<SystemTime>) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(Error::io("create", path))?;
    file.write_all(data).map_err(Error::io("write", path))?;
    if let Some(time) = modified {
        file.set_modified(time)
            .map_err(Error::io("set modification time of", path))?;
    }
    file.sync_all().map_err(Error::io("fsync", path))
}

/// Replaces `path` with `data` atomically: writes `temporary`, fsyncs it,
/// renames it over `path` and fsyncs the parent folder.
pub fn replace_file(path: &Path, temporary: &Path, data: &[u8]) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(temporary)
        .map_err(Error::io("create", temporary))?;
    file.write_all(data).map_err(Error::io("write", temporary))?;
    file.sync_all().map_err(Error::io("fsync", temporary))?;
    fs::rename(temporary, path).map_err(Error::io("rename", temporary))?;
    sync_parent(path)
}

/// Fsyncs a folder so that renames, creations and removals inside it survive
/// a crash.
pub fn sync_dir(path: &Path) -> Result<(), Error> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(Error::io("fsync", path))
}

/// Fsyncs the folder that contains `path`.
pub fn sync_parent(path: &Path) -> Result<(), Error> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// Creates the folder `path`; returns false when it already existed.
pub fn create_dir_if_missing(path: &Path) -> Result<bool, Error> {
    match fs::create_dir(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(Error::io("create", path)(error)),
    }
}
