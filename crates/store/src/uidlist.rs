//! The `dovecot-uidlist` file: the permanent map from IMAP UIDs to Maildir
//! unique names, in the format Dovecot 1.1 and later write (version 3).
//!
//! ```text
//! 3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1
//! 25020 W1126 :1275660208.M20P2173.host,S=1097
//! ```
//!
//! The header contains the format version, `V` the UIDVALIDITY and `N` the
//! next UID; other header fields (Dovecot's `G` mailbox GUID) are kept as found.
//! Each record holds a UID, optional extension fields (`W` is the message size
//! with CRLF line endings, which Dovecot calls the virtual size) and, after
//! the colon, the unique name without the `:2,` info part. Version 1 files
//! (Courier's `courierimapuiddb` layout, `1 <uidvalidity> <nextuid>` and
//! `<uid> <name>` lines) are read too; only version 3 is written.

use std::collections::HashSet;
use std::fmt::Write;

/// The parsed content of a `dovecot-uidlist` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidList {
    pub uid_validity: u32,
    pub next_uid: u32,
    /// Header fields other than the version, `V` and `N`, such as `G<guid>`.
    pub other_header_fields: Vec<String>,
    /// Records in ascending UID order.
    pub records: Vec<UidRecord>,
}

/// One message of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidRecord {
    pub uid: u32,
    /// The unique name, without the `:2,` info part.
    pub base: String,
    /// Extension fields such as `W1126`, each a key letter and a value.
    pub fields: Vec<String>,
}

impl UidRecord {
    /// Returns the size with CRLF line endings from the `W` field, if present.
    pub fn virtual_size(&self) -> Option<u64> {
        self.fields
            .iter()
            .find_map(|field| field.strip_prefix('W')?.parse().ok())
    }
}

/// Parse failure of a `dovecot-uidlist` file, with its line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct UidListError {
    pub line: usize,
    pub reason: &'static str,
}

/// Parses the bytes of a `dovecot-uidlist` file.
pub fn parse(bytes: &[u8]) -> Result<UidList, UidListError> {
    let text = std::str::from_utf8(bytes).map_err(|_| UidListError {
        line: 0,
        reason: "not valid UTF-8",
    })?;
    let mut lines = text.lines();
    let header = lines.next().ok_or(UidListError {
        line: 1,
        reason: "missing header",
    })?;
    let (version, mut list) = parse_header(header)?;

    let mut seen_bases = HashSet::new();
    for (index, line) in lines.enumerate() {
        let line_number = index + 2;
        if line.is_empty() {
            continue;
        }
        let error = |reason| UidListError {
            line: line_number,
            reason,
        };
        let record = if version == 1 {
            parse_v1_record(line)
        } else {
            parse_v3_record(line)
        }
        .map_err(error)?;
        if list.records.last().is_some_and(|last| last.uid >= record.uid) {
            return Err(error("UIDs are not in ascending order"));
        }
        if !seen_bases.insert(record.base.clone()) {
            return Err(error("file name listed twice"));
        }
        list.records.push(record);
    }

    // A next UID at or below a listed UID would hand out a UID twice.
    if let Some(last) = list.records.last() {
        list.next_uid = list.next_uid.max(last.uid.saturating_add(1));
    }
    Ok(list)
}

fn parse_header(header: &str) -> Result<(u32, UidList), UidListError> {
    let error = |reason| UidListError { line: 1, reason };
    let mut fields = header.split(' ').filter(|field| !field.is_empty());
    let version = fields.next().ok_or(error("missing version"))?;
    let mut list = UidList {
        uid_validity: 0,
        next_uid: 0,
        other_header_fields: Vec::new(),
        records: Vec::new(),
    };

    match version {
        "1" => {
            let mut number = || fields.next().and_then(|value| value.parse::<u32>().ok());
            list.uid_validity = number().ok_or(error("invalid UIDVALIDITY"))?;
            list.next_uid = number().ok_or(error("invalid next UID"))?;
        }
        "3" => {
            for field in fields {
                if let Some(value) = field.strip_prefix('V') {
                    list.uid_validity = value.parse().map_err(|_| error("invalid V (UIDVALIDITY) field"))?;
                } else if let Some(value) = field.strip_prefix('N') {
                    list.next_uid = value.parse().map_err(|_| error("invalid N (next UID) field"))?;
                } else {
                    list.other_header_fields.push(field.to_owned());
                }
            }
        }
        _ => return Err(error("unsupported version; expected 1 or 3")),
    }

    if list.uid_validity == 0 {
        return Err(error("missing or zero UIDVALIDITY"));
    }
    list.next_uid = list.next_uid.max(1);
    Ok((version.parse().unwrap_or(3), list))
}

fn parse_v3_record(line: &str) -> Result<UidRecord, &'static str> {
    let (head, name) = line.split_once(" :").ok_or("missing ' :' before the file name")?;
    let mut fields = head.split(' ').filter(|field| !field.is_empty());
    let uid = parse_uid(fields.next())?;
    let fields = fields.map(str::to_owned).collect();
    Ok(UidRecord {
        uid,
        base: parse_base(name)?,
        fields,
    })
}

fn parse_v1_record(line: &str) -> Result<UidRecord, &'static str> {
    let (uid, name) = line.split_once(' ').ok_or("missing file name")?;
    Ok(UidRecord {
        uid: parse_uid(Some(uid))?,
        base: parse_base(name)?,
        fields: Vec::new(),
    })
}

fn parse_uid(field: Option<&str>) -> Result<u32, &'static str> {
    match field.and_then(|value| value.parse::<u32>().ok()) {
        Some(uid) if uid > 0 => Ok(uid),
        _ => Err("invalid UID"),
    }
}

/// Returns the unique name of a listed file name: older writers stored the
/// name with its `:2,` info part.
fn parse_base(name: &str) -> Result<String, &'static str> {
    let base = name.split_once(':').map_or(name, |(base, _)| base);
    if base.is_empty() || base.contains('/') {
        return Err("invalid file name");
    }
    Ok(base.to_owned())
}

/// Renders the list in version 3 format.
pub fn render(list: &UidList) -> String {
    let mut text = format!("3 V{} N{}", list.uid_validity, list.next_uid);
    for field in &list.other_header_fields {
        text.push(' ');
        text.push_str(field);
    }
    text.push('\n');
    for record in &list.records {
        let _ = write!(text, "{}", record.uid);
        for field in &record.fields {
            text.push(' ');
            text.push_str(field);
        }
        let _ = writeln!(text, " :{}", record.base);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOVECOT_SAMPLE: &str = "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n\
        25020 :1275660208.M20P2173.host,S=1097,W=1126\n\
        25021 W2048 G1a2b :1275660209.M21P2173.host,S=2000:2,S\n";

    #[test]
    fn reads_dovecot_version_3() {
        let list = parse(DOVECOT_SAMPLE.as_bytes()).unwrap();
        assert_eq!(list.uid_validity, 1275660208);
        assert_eq!(list.next_uid, 25022);
        assert_eq!(list.other_header_fields, ["G3085f01b7f11094c501100008c4a11c1"]);
        assert_eq!(list.records.len(), 2);
        assert_eq!(list.records[0].base, "1275660208.M20P2173.host,S=1097,W=1126");
        assert_eq!(list.records[1].base, "1275660209.M21P2173.host,S=2000");
        assert_eq!(list.records[1].virtual_size(), Some(2048));
    }

    #[test]
    fn render_keeps_unknown_fields() {
        let list = parse(DOVECOT_SAMPLE.as_bytes()).unwrap();
        let rendered = render(&list);
        assert!(rendered.starts_with("3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n"));
        assert!(rendered.contains("\n25021 W2048 G1a2b :1275660209.M21P2173.host,S=2000\n"));
        assert_eq!(parse(rendered.as_bytes()).unwrap(), list);
    }

    #[test]
    fn reads_courier_version_1() {
        let list = parse(b"1 1000 5\n3 1.M1P1.h\n4 2.M1P1.h:2,S\n").unwrap();
        assert_eq!(list.uid_validity, 1000);
        assert_eq!(list.next_uid, 5);
        assert_eq!(list.records[1].base, "2.M1P1.h");
    }

    #[test]
    fn raises_next_uid_above_listed_uids() {
        let list = parse(b"3 V7 N2\n9 :a\n").unwrap();
        assert_eq!(list.next_uid, 10);
    }

    #[test]
    fn rejects_descending_uids() {
        let error = parse(b"3 V7 N10\n5 :a\n4 :b\n").unwrap_err();
        assert_eq!(error.line, 3);
    }

    #[test]
    fn rejects_duplicate_names() {
        assert!(parse(b"3 V7 N10\n1 :a\n2 :a\n").is_err());
    }

    #[test]
    fn rejects_missing_uid_validity() {
        assert!(parse(b"3 N10\n").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"2 V1 N1\n").is_err());
    }

    #[test]
    fn rejects_record_without_colon() {
        assert!(parse(b"3 V7 N10\n1 a\n").is_err());
    }
}
