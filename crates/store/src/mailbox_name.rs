//! Mailbox names and where their folders live in a Maildir++ tree.
//!
//! INBOX is the account's Maildir itself. Every other mailbox is a folder
//! `.<name>` beside `cur/`, with `.` as the hierarchy separator both on disk
//! and on the wire, as in Dovecot's Maildir++ layout. So the mailbox
//! `Lists.rust` is the folder `.Lists.rust`. Names are kept in the form the client sent
//! (modified UTF-7 for IMAP4rev1 clients), as Dovecot does by default.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Error;

/// Hierarchy separator of mailbox names.
pub const SEPARATOR: char = '.';

/// Longest accepted mailbox name in bytes, leaving room in the 255-byte file
/// name limit of common file systems for the leading dot.
const MAX_NAME_BYTES: usize = 200;

/// Mailbox roles from RFC 6154 (IMAP LIST extension for special-use mailboxes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialUse {
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
}

impl SpecialUse {
    /// Returns the LIST attribute name without its backslash, such as `Sent`.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Sent => "Sent",
            Self::Drafts => "Drafts",
            Self::Trash => "Trash",
            Self::Junk => "Junk",
            Self::Archive => "Archive",
        }
    }
}

/// The special-use mailboxes every account gets at first login, by name.
pub const SPECIAL_MAILBOXES: [(&str, SpecialUse); 5] = [
    ("Sent", SpecialUse::Sent),
    ("Drafts", SpecialUse::Drafts),
    ("Trash", SpecialUse::Trash),
    ("Junk", SpecialUse::Junk),
    ("Archive", SpecialUse::Archive),
];

/// A valid mailbox name; INBOX in any letter case is stored as `INBOX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxName(String);

impl MailboxName {
    /// Checks `name` and returns it in canonical form.
    pub fn parse(name: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidMailboxName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("the name is empty"));
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(invalid("the name is longer than 200 bytes"));
        }
        if name.chars().any(|c| c.is_control() || matches!(c, '/' | '*' | '%')) {
            return Err(invalid("the name contains '/', '*', '%' or a control character"));
        }
        if name.split(SEPARATOR).any(str::is_empty) {
            return Err(invalid(
                "the name has an empty level (leading, trailing or doubled '.')",
            ));
        }

        let (first, rest) = name
            .split_once(SEPARATOR)
            .map_or((name, None), |(first, rest)| (first, Some(rest)));
        if first.eq_ignore_ascii_case("INBOX") {
            return Ok(Self(
                rest.map_or_else(|| "INBOX".to_owned(), |rest| format!("INBOX{SEPARATOR}{rest}")),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// Returns the INBOX name.
    pub fn inbox() -> Self {
        Self("INBOX".to_owned())
    }

    /// Returns the mailbox whose folder is `.<dir_name>` when `entry` is such
    /// a folder name, such as `Sent` for `.Sent`.
    pub fn from_folder_entry(entry: &str) -> Option<Self> {
        let name = entry.strip_prefix('.')?;
        if name.starts_with('.') {
            return None;
        }
        Self::parse(name).ok().filter(|parsed| parsed.0 == name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// Returns the Maildir folder of this mailbox inside the account Maildir.
    pub fn folder_path(&self, maildir: &Path) -> PathBuf {
        if self.is_inbox() {
            maildir.to_owned()
        } else {
            maildir.join(format!(".{}", self.0))
        }
    }

    /// Returns the enclosing mailbox, such as `a.b` for `a.b.c`.
    pub fn parent(&self) -> Option<Self> {
        self.0.rsplit_once(SEPARATOR).map(|(parent, _)| Self(parent.to_owned()))
    }

    /// Returns whether `self` is strictly inside `ancestor` in the hierarchy.
    pub fn is_inside(&self, ancestor: &Self) -> bool {
        self.0.len() > ancestor.0.len()
            && self.0.starts_with(&ancestor.0)
            && self.0[ancestor.0.len()..].starts_with(SEPARATOR)
    }

    /// Returns the role of this mailbox if it is one of the special-use ones.
    pub fn special_use(&self) -> Option<SpecialUse> {
        SPECIAL_MAILBOXES
            .iter()
            .find(|(name, _)| *name == self.0)
            .map(|(_, role)| *role)
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_case_insensitive() {
        assert_eq!(MailboxName::parse("inBox").unwrap().as_str(), "INBOX");
        assert_eq!(MailboxName::parse("inbox.Sub").unwrap().as_str(), "INBOX.Sub");
    }

    #[test]
    fn maps_names_to_dot_folders() {
        let maildir = Path::new("/m/example.test/alice");
        let name = MailboxName::parse("Lists.rust").unwrap();
        assert_eq!(
            name.folder_path(maildir),
            Path::new("/m/example.test/alice/.Lists.rust")
        );
        assert_eq!(MailboxName::inbox().folder_path(maildir), maildir);
    }

    #[test]
    fn rejects_unsafe_names() {
        for name in ["", ".", "a..b", ".a", "a.", "a/b", "../x", "a*", "b%", "tab\there"] {
            assert!(MailboxName::parse(name).is_err(), "{name:?} was accepted");
        }
    }

    #[test]
    fn reads_folder_entries() {
        assert_eq!(MailboxName::from_folder_entry(".Sent").unwrap().as_str(), "Sent");
        assert!(MailboxName::from_folder_entry("cur").is_none());
        assert!(MailboxName::from_folder_entry("..deleted").is_none());
    }

    #[test]
    fn hierarchy_relations() {
        let child = MailboxName::parse("a.b.c").unwrap();
        let parent = MailboxName::parse("a.b").unwrap();
        assert_eq!(child.parent(), Some(parent.clone()));
        assert!(child.is_inside(&parent));
        assert!(!MailboxName::parse("a.bc").unwrap().is_inside(&parent));
    }
}
