//! The spool on disk.
//!
//! ```text
//! <queue_root>/tmp/        files being written; ignored and cleaned up
//! <queue_root>/messages/   <id>.eml, the message as it will be relayed
//! <queue_root>/active/     <id>.json, the envelope; its presence commits the entry
//! <queue_root>/state/      <id>.json, attempts and the next attempt time
//! ```
//!
//! [`Spool::enqueue`] writes the message and then the envelope, each through
//! `tmp/` with fsync and a rename, and fsyncs the folders, so a caller may
//! acknowledge the message (250) as soon as it returns. A crash before the
//! envelope's rename leaves only an orphan message file, never a queue entry
//! without its message. [`Spool::remove`] deletes the envelope first, so a
//! crash part way leaves orphans but never a half-removed entry.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::EntryState;

/// Errors from the spool.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{action} {path} failed: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("invalid queue file {path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("queue entry {0} not found; `mailroom queue` lists the entries")]
    NotFound(String),
    #[error("invalid queue id {0:?}: expected 16 hexadecimal digits")]
    InvalidId(String),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_owned();
    move |source| Error::Io { action, path, source }
}

/// Identifier of a queue entry: 16 hex digits, unique within one spool.
pub type QueueId = String;

/// Who a queued message is from and for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// RFC 5321 reverse path; empty for bounces.
    pub sender: String,
    /// Recipients still to deliver to.
    pub recipients: Vec<String>,
    /// Authenticated account that submitted the message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    /// When the message was accepted.
    pub queued_at: DateTime<Utc>,
}

/// The spool in one folder.
#[derive(Debug, Clone)]
pub struct Spool {
    root: PathBuf,
}

impl Spool {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores `message` for `envelope` durably and returns its id.
    pub fn enqueue(&self, envelope: &Envelope, message: &[u8]) -> Result<QueueId, Error> {
        self.create_folders()?;
        let id = format!("{:016X}", rand::random::<u64>());
        let envelope_json = serde_json::to_vec_pretty(envelope).expect("envelopes serialise");

        self.publish(&format!("{id}.eml"), message, "messages")?;
        self.publish(&format!("{id}.json"), &envelope_json, "active")?;
        Ok(id)
    }

    /// Returns the ids of every committed entry, oldest file name first.
    pub fn list(&self) -> Result<Vec<QueueId>, Error> {
        let active = self.root.join("active");
        let entries = match fs::read_dir(&active) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("read", &active)(e)),
        };
        let mut ids: Vec<QueueId> = entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Reads the envelope and message of entry `id`.
    pub fn read(&self, id: &str) -> Result<(Envelope, Vec<u8>), Error> {
        let envelope = self.envelope(id)?;
        let message_path = self.path("messages", id, "eml")?;
        let message = fs::read(&message_path).map_err(io("read", &message_path))?;
        Ok((envelope, message))
    }

    /// Reads the envelope of entry `id`.
    pub fn envelope(&self, id: &str) -> Result<Envelope, Error> {
        let path = self.path("active", id, "json")?;
        match fs::read(&path) {
            Ok(text) => serde_json::from_slice(&text).map_err(|source| Error::Json { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound(id.to_owned())),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    /// Reads the delivery state of entry `id`; an entry never tried has the
    /// default state.
    pub fn state(&self, id: &str) -> Result<EntryState, Error> {
        let path = self.path("state", id, "json")?;
        match fs::read(&path) {
            Ok(text) => serde_json::from_slice(&text).map_err(|source| Error::Json { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EntryState::default()),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    /// Replaces the delivery state of entry `id` durably.
    pub fn save_state(&self, id: &str, state: &EntryState) -> Result<(), Error> {
        self.require(id)?;
        self.create_folders()?;
        let json = serde_json::to_vec_pretty(state).expect("entry states serialise");
        self.publish(&format!("{id}.json"), &json, "state")
    }

    /// Replaces the envelope of entry `id` durably, such as after some
    /// recipients were delivered.
    pub fn save_envelope(&self, id: &str, envelope: &Envelope) -> Result<(), Error> {
        self.require(id)?;
        let json = serde_json::to_vec_pretty(envelope).expect("envelopes serialise");
        self.publish(&format!("{id}.json"), &json, "active")
    }

    /// Makes entry `id` due now.
    pub fn retry(&self, id: &str) -> Result<(), Error> {
        let mut state = self.state(id)?;
        state.next_attempt = None;
        self.save_state(id, &state)
    }

    /// Deletes entry `id`: the envelope first, which uncommits it, then its
    /// message and state.
    pub fn remove(&self, id: &str) -> Result<(), Error> {
        let envelope = self.path("active", id, "json")?;
        match fs::remove_file(&envelope) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotFound(id.to_owned())),
            Err(e) => return Err(io("remove", &envelope)(e)),
        }
        self.sync_folder("active")?;

        for (folder, extension) in [("messages", "eml"), ("state", "json")] {
            let path = self.path(folder, id, extension)?;
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("remove", &path)(e)),
            }
        }
        Ok(())
    }

    fn require(&self, id: &str) -> Result<(), Error> {
        if self.path("active", id, "json")?.exists() {
            Ok(())
        } else {
            Err(Error::NotFound(id.to_owned()))
        }
    }

    /// Returns `<root>/<folder>/<id>.<extension>` after checking that `id`
    /// cannot name a file outside the spool.
    fn path(&self, folder: &str, id: &str, extension: &str) -> Result<PathBuf, Error> {
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidId(id.to_owned()));
        }
        Ok(self.root.join(folder).join(format!("{id}.{extension}")))
    }

    fn create_folders(&self) -> Result<(), Error> {
        for folder in ["tmp", "messages", "active", "state"] {
            let path = self.root.join(folder);
            fs::create_dir_all(&path).map_err(io("create", &path))?;
        }
        Ok(())
    }

    /// Writes `data` to a fresh file in `tmp/`, fsyncs it, renames it to
    /// `folder/<name>` (replacing any file there), and fsyncs `folder`.
    fn publish(&self, name: &str, data: &[u8], folder: &str) -> Result<(), Error> {
        let temporary = self.root.join("tmp").join(format!("{name}.{:08x}", rand::random::<u32>()));
        let target = self.root.join(folder).join(name);

        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary).map_err(io("create", &temporary))?;
        file.write_all(data).map_err(io("write", &temporary))?;
        file.sync_all().map_err(io("fsync", &temporary))?;
        drop(file);

        fs::rename(&temporary, &target).map_err(io("rename", &temporary))?;
        self.sync_folder(folder)
    }

    fn sync_folder(&self, folder: &str) -> Result<(), Error> {
        let folder_path = self.root.join(folder);
        File::open(&folder_path).and_then(|dir| dir.sync_all()).map_err(io("fsync", &folder_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            sender: "alice@example.test".to_owned(),
            recipients: vec!["carol@example.net".to_owned()],
            submitted_by: Some("alice@example.test".to_owned()),
            queued_at: Utc::now(),
        }
    }

    #[test]
    fn enqueued_message_reads_back() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::new(root.path());

        let id = spool.enqueue(&envelope(), b"Subject: hi\r\n\r\nbody\r\n").unwrap();

        assert_eq!(spool.list().unwrap(), vec![id.clone()]);
        let (read_envelope, message) = spool.read(&id).unwrap();
        assert_eq!(read_envelope, envelope_with_time(read_envelope.queued_at));
        assert_eq!(message, b"Subject: hi\r\n\r\nbody\r\n");
        assert_eq!(fs::read_dir(root.path().join("tmp")).unwrap().count(), 0);
    }

    fn envelope_with_time(queued_at: DateTime<Utc>) -> Envelope {
        Envelope { queued_at, ..envelope() }
    }

    #[test]
    fn empty_spool_lists_nothing() {
        let root = tempfile::tempdir().unwrap();
        assert!(Spool::new(root.path().join("absent")).list().unwrap().is_empty());
    }

    #[test]
    fn state_survives_reopening() {
        let root = tempfile::tempdir().unwrap();
        let id = Spool::new(root.path()).enqueue(&envelope(), b"x\r\n").unwrap();
        let mut state = EntryState::default();
        state.defer(Utc::now(), "421 try later".into(), false);

        Spool::new(root.path()).save_state(&id, &state).unwrap();

        assert_eq!(Spool::new(root.path()).state(&id).unwrap(), state);
    }

    #[test]
    fn retry_makes_entry_due() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::new(root.path());
        let id = spool.enqueue(&envelope(), b"x\r\n").unwrap();
        let mut state = EntryState::default();
        state.defer(Utc::now(), "421 try later".into(), false);
        spool.save_state(&id, &state).unwrap();

        spool.retry(&id).unwrap();

        assert!(spool.state(&id).unwrap().is_due(Utc::now()));
    }

    #[test]
    fn remove_deletes_every_file() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::new(root.path());
        let id = spool.enqueue(&envelope(), b"x\r\n").unwrap();
        spool.save_state(&id, &EntryState::default()).unwrap();

        spool.remove(&id).unwrap();

        assert!(spool.list().unwrap().is_empty());
        assert_eq!(fs::read_dir(root.path().join("messages")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(root.path().join("state")).unwrap().count(), 0);
    }

    #[test]
    fn removed_entry_gets_no_state() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::new(root.path());
        let id = spool.enqueue(&envelope(), b"x\r\n").unwrap();
        spool.remove(&id).unwrap();

        let result = spool.save_state(&id, &EntryState::default());

        assert!(matches!(result, Err(Error::NotFound(_))));
    }

    #[test]
    fn rejects_id_with_path_separator() {
        let spool = Spool::new("/nonexistent");
        assert!(matches!(spool.remove("../../etc/passwd"), Err(Error::InvalidId(_))));
    }
}
