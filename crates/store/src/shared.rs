//! Folders shared between the sessions of one process.
//!
//! Every folder that some session uses has one [`SharedFolder`] cell, found
//! through the store's registry by path, so all sessions of the process see
//! the same index and take the same lock. A cell is loaded on first use and
//! dropped when the last session releases it.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::SystemTime;

use crate::folder::Folder;
use crate::{Error, to_crlf};

/// A handle on one folder's index and lock.
#[derive(Clone)]
pub struct SharedFolder {
    cell: Arc<FolderCell>,
}

struct FolderCell {
    path: PathBuf,
    state: Mutex<CellState>,
    /// Map that keeps the `\Recent` floor when the cell is dropped.
    recent_floors: Arc<Mutex<HashMap<PathBuf, u32>>>,
}

impl Drop for FolderCell {
    /// Remembers which messages were already reported as `\Recent`, so that
    /// reloading the folder later in this process does not lose them.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let CellState::Loaded(folder) = state {
            lock(&self.recent_floors).insert(self.path.clone(), folder.recent_floor());
        }
    }
}

enum CellState {
    Unloaded,
    Loaded(Folder),
    /// The mailbox was deleted or renamed; its sessions must stop using it.
    Removed,
}

/// A message read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message with CRLF line endings.
    pub bytes: Vec<u8>,
    /// The file's modification time, which is the IMAP INTERNALDATE.
    pub internal_date: SystemTime,
}

impl SharedFolder {
    pub fn path(&self) -> &Path {
        &self.cell.path
    }

    /// Runs `operation` on the folder while holding its lock, loading the
    /// folder first if needed.
    pub fn with<R>(&self, operation: impl FnOnce(&mut Folder) -> Result<R, Error>) -> Result<R, Error> {
        let mut state = lock(&self.cell.state);
        if matches!(*state, CellState::Unloaded) {
            let mut folder = Folder::open(&self.cell.path)?;
            if let Some(floor) = lock(&self.cell.recent_floors).remove(&self.cell.path) {
                folder.lower_recent_floor(floor);
            }
            *state = CellState::Loaded(folder);
        }
        match &mut *state {
            CellState::Loaded(folder) => operation(folder),
            CellState::Removed | CellState::Unloaded => Err(Error::FolderMissing(self.cell.path.clone())),
        }
    }

    /// Reads message `uid`; returns `None` if it no longer exists.
    ///
    /// The file is read without the folder lock, so a large message does not
    /// stall other sessions. If a concurrent flag change renamed the file
    /// meanwhile, the read is retried once under its new name.
    pub fn read_message(&self, uid: u32) -> Result<Option<StoredMessage>, Error> {
        for attempt in 0..2 {
            let path = self.with(|folder| {
                if attempt > 0 {
                    folder.rescan_cur()?;
                }
                Ok(folder.message_path(uid))
            })?;
            let Some(path) = path else { return Ok(None) };
            match read_file(&path)? {
                Some(message) => return Ok(Some(message)),
                None => continue,
            }
        }
        Ok(None)
    }

    /// Returns the INTERNALDATE of message `uid`, or `None` if it is gone.
    pub fn internal_date(&self, uid: u32) -> Result<Option<SystemTime>, Error> {
        let Some(path) = self.with(|folder| Ok(folder.message_path(uid)))? else {
            return Ok(None);
        };
        match fs::metadata(&path).and_then(|meta| meta.modified()) {
            Ok(time) => Ok(Some(time)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(Error::io("read metadata of", &path)(error)),
        }
    }

    /// Runs `removal` (which moves the folder away on disk) under the
    /// folder's lock and marks the folder removed if it succeeds.
    pub(crate) fn remove_with(&self, removal: impl FnOnce() -> Result<(), Error>) -> Result<(), Error> {
        let mut state = lock(&self.cell.state);
        removal()?;
        *state = CellState::Removed;
        Ok(())
    }

    fn mark_removed(&self) {
        *lock(&self.cell.state) = CellState::Removed;
    }
}

impl fmt::Debug for SharedFolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFolder")
            .field("path", &self.cell.path)
            .finish_non_exhaustive()
    }
}

fn read_file(path: &Path) -> Result<Option<StoredMessage>, Error> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io("read", path)(error)),
    };
    let internal_date = fs::metadata(path)
        .and_then(|meta| meta.modified())
        .map_err(Error::io("read metadata of", path))?;
    Ok(Some(StoredMessage {
        bytes: to_crlf(bytes),
        internal_date,
    }))
}

/// Locks a mutex, also after a panic elsewhere: the folder state is only
/// changed after the disk operation it mirrors succeeded, so it stays usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The folders in use in this process, by path.
///
/// NOTE: `\Recent` state survives a folder being unloaded, but not a
/// restart of the process: messages numbered before it are not recent after.
#[derive(Default)]
pub(crate) struct Registry {
    folders: Mutex<HashMap<PathBuf, Weak<FolderCell>>>,
    recent_floors: Arc<Mutex<HashMap<PathBuf, u32>>>,
    /// Serialises rewrites of the per-account `subscriptions` files.
    pub(crate) subscriptions: Mutex<()>,
}

impl Registry {
    /// Returns the cell of the folder at `path`, creating it if no session
    /// has one.
    pub(crate) fn folder(&self, path: PathBuf) -> SharedFolder {
        let mut folders = lock(&self.folders);
        if let Some(cell) = folders.get(&path).and_then(Weak::upgrade) {
            return SharedFolder { cell };
        }
        folders.retain(|_, cell| cell.strong_count() > 0);
        let cell = Arc::new(FolderCell {
            path: path.clone(),
            state: Mutex::new(CellState::Unloaded),
            recent_floors: self.recent_floors.clone(),
        });
        folders.insert(path, Arc::downgrade(&cell));
        SharedFolder { cell }
    }

    /// Marks every loaded folder whose path satisfies `removed` as removed
    /// and drops it from the registry, so the next use loads from disk.
    pub(crate) fn forget(&self, removed: impl Fn(&Path) -> bool) {
        let mut folders = lock(&self.folders);
        let paths: Vec<PathBuf> = folders.keys().filter(|path| removed(path)).cloned().collect();
        for path in paths {
            if let Some(cell) = folders.remove(&path).and_then(|weak| weak.upgrade()) {
                SharedFolder { cell }.mark_removed();
            }
            lock(&self.recent_floors).remove(&path);
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}
