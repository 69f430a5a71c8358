//! The outbound queue: a durable spool of messages waiting for delivery.
//!
//! ```text
//! <queue_root>/tmp/        files being written; ignored and cleaned up
//! <queue_root>/messages/   <id>.eml, the message as it will be relayed
//! <queue_root>/active/     <id>.json, the envelope; its presence commits the entry
//! ```
//!
//! [`Spool::enqueue`] writes the message and then the envelope, each through
//! `tmp/` with fsync and a rename, and fsyncs the folders, so a caller may
//! acknowledge the message (250) as soon as it returns. A crash before the
//! envelope's rename leaves only an orphan message file, never a queue entry
//! without its message.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Errors from the spool.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{action} {path} failed: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("invalid envelope {path}: {source}")]
    Envelope { path: PathBuf, source: serde_json::Error },
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

    /// Stores `message` for `envelope` durably and returns its id.
    pub fn enqueue(&self, envelope: &Envelope, message: &[u8]) -> Result<QueueId, Error> {
        for folder in ["tmp", "messages", "active"] {
            let path = self.root.join(folder);
            fs::create_dir_all(&path).map_err(io("create", &path))?;
        }
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
        let envelope_path = self.root.join("active").join(format!("{id}.json"));
        let message_path = self.root.join("messages").join(format!("{id}.eml"));
        let text = fs::read(&envelope_path).map_err(io("read", &envelope_path))?;
        let envelope = serde_json::from_slice(&text).map_err(|source| Error::Envelope { path: envelope_path, source })?;
        let message = fs::read(&message_path).map_err(io("read", &message_path))?;
        Ok((envelope, message))
    }

    /// Writes `data` to `tmp/<name>`, fsyncs it, renames it into `folder`,
    /// and fsyncs `folder`.
    fn publish(&self, name: &str, data: &[u8], folder: &str) -> Result<(), Error> {
        let temporary = self.root.join("tmp").join(name);
        let target = self.root.join(folder).join(name);

        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary).map_err(io("create", &temporary))?;
        file.write_all(data).map_err(io("write", &temporary))?;
        file.sync_all().map_err(io("fsync", &temporary))?;
        drop(file);

        fs::rename(&temporary, &target).map_err(io("rename", &temporary))?;
        let folder_path = self.root.join(folder);
        File::open(&folder_path).and_then(|dir| dir.sync_all()).map_err(io("fsync", &folder_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enqueued_message_reads_back() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::new(root.path());
        let envelope = Envelope {
            sender: "alice@example.test".to_owned(),
            recipients: vec!["carol@example.net".to_owned()],
            submitted_by: Some("alice@example.test".to_owned()),
            queued_at: Utc::now(),
        };

        let id = spool.enqueue(&envelope, b"Subject: hi\r\n\r\nbody\r\n").unwrap();

        assert_eq!(spool.list().unwrap(), vec![id.clone()]);
        let (read_envelope, message) = spool.read(&id).unwrap();
        assert_eq!(read_envelope, envelope);
        assert_eq!(message, b"Subject: hi\r\n\r\nbody\r\n");
        assert_eq!(fs::read_dir(root.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn empty_spool_lists_nothing() {
        let root = tempfile::tempdir().unwrap();
        assert!(Spool::new(root.path().join("absent")).list().unwrap().is_empty());
    }
}
