//! Maildir file names: unique names and the `:2,` info part that carries a
//! message's flags.
//!
//! A message in `cur/` is named `<unique name>:2,<letters>`, the letters in
//! ASCII order: `D` draft, `F` flagged, `P` passed (forwarded), `R` replied,
//! `S` seen, `T` trashed (IMAP `\Deleted`). Lower-case letters are Dovecot
//! keywords; they are kept as found but not interpreted.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Per-process counter that keeps unique names unique within one microsecond.
static NAME_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Separator between a unique name and its info part.
const INFO_SEPARATOR: &str = ":2,";

/// The flags that Maildir stores in file names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    pub const DRAFT: Flags = Flags(1);
    pub const FLAGGED: Flags = Flags(1 << 1);
    pub const PASSED: Flags = Flags(1 << 2);
    pub const ANSWERED: Flags = Flags(1 << 3);
    pub const SEEN: Flags = Flags(1 << 4);
    pub const DELETED: Flags = Flags(1 << 5);

    /// Each flag with its Maildir letter, in the ASCII order file names use.
    const LETTERS: [(Flags, char); 6] = [
        (Flags::DRAFT, 'D'),
        (Flags::FLAGGED, 'F'),
        (Flags::PASSED, 'P'),
        (Flags::ANSWERED, 'R'),
        (Flags::SEEN, 'S'),
        (Flags::DELETED, 'T'),
    ];

    pub const fn empty() -> Self {
        Self(0)
    }

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: Flags) -> Self {
        Self(self.0 | other.0)
    }

    pub fn difference(self, other: Flags) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Returns the flag for a Maildir info letter, if it is a standard one.
    pub fn from_letter(letter: char) -> Option<Self> {
        Self::LETTERS.iter().find(|(_, l)| *l == letter).map(|(flag, _)| *flag)
    }

    /// Splits info letters into standard flags and the remaining letters
    /// (keywords and unknown flags), which are kept in their order.
    pub fn from_info(info: &str) -> (Self, String) {
        let mut flags = Self::empty();
        let mut other = String::new();
        for letter in info.chars() {
            match Self::from_letter(letter) {
                Some(flag) => flags = flags.union(flag),
                None if !other.contains(letter) => other.push(letter),
                None => {}
            }
        }
        (flags, other)
    }
}

impl fmt::Display for Flags {
    /// Writes the Maildir info letters of the flags, in ASCII order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, letter) in Self::LETTERS {
            if self.contains(flag) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// A file name in `cur/` split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    /// The unique name, which `dovecot-uidlist` uses as the key.
    pub base: String,
    pub flags: Flags,
    /// Info letters other than the standard flags, such as Dovecot keywords.
    pub other_letters: String,
}

/// Splits a Maildir file name into unique name and flags. A name without a
/// `:2,` info part has no flags.
pub fn parse_name(name: &str) -> ParsedName {
    match name.split_once(INFO_SEPARATOR) {
        Some((base, info)) => {
            let (flags, other_letters) = Flags::from_info(info);
            ParsedName {
                base: base.to_owned(),
                flags,
                other_letters,
            }
        }
        None => {
            let base = name.split_once(':').map_or(name, |(base, _)| base);
            ParsedName {
                base: base.to_owned(),
                flags: Flags::empty(),
                other_letters: String::new(),
            }
        }
    }
}

/// Builds the `cur/` file name for a unique name with the given flags and
/// extra info letters. The extra letters follow the upper-case flags, which
/// keeps the info part in the ASCII order the Maildir specification requires.
pub fn cur_name(base: &str, flags: Flags, other_letters: &str) -> String {
    let mut letters: Vec<char> = other_letters.chars().collect();
    letters.sort_unstable();
    let other: String = letters.into_iter().collect();
    format!("{base}{INFO_SEPARATOR}{flags}{other}")
}

/// Returns a Maildir unique name in Dovecot's form with the size field:
/// `<secs>.M<usecs>P<pid>Q<counter>.<host>,S=<size>`.
pub fn unique_name(size: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let counter = NAME_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}.M{}P{}Q{}.{},S={}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        counter,
        hostname(),
        size
    )
}

/// Sort key that puts unique names in delivery order: seconds, then
/// microseconds (the `M` field), then the whole name. Names in other forms
/// sort after the timed ones that share their seconds.
pub fn delivery_order_key(name: &str) -> (u64, u64, &str) {
    let (seconds, rest) = name.split_once('.').unwrap_or((name, ""));
    let seconds = seconds.parse().unwrap_or(u64::MAX);
    let micros = rest
        .strip_prefix('M')
        .map(|tail| tail.chars().take_while(char::is_ascii_digit).collect::<String>())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(u64::MAX);
    (seconds, micros, name)
}

/// Host name for unique names, with '/' and ':' replaced as the Maildir
/// specification asks.
fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".to_owned());
    raw.trim().replace('/', "\\057").replace(':', "\\072")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_through_file_names() {
        let flags = Flags::SEEN
            .union(Flags::ANSWERED)
            .union(Flags::DELETED)
            .union(Flags::DRAFT);
        let name = cur_name("123.M4P5.host,S=10", flags, "");
        assert_eq!(name, "123.M4P5.host,S=10:2,DRST");

        let parsed = parse_name(&name);
        assert_eq!(parsed.base, "123.M4P5.host,S=10");
        assert_eq!(parsed.flags, flags);
    }

    #[test]
    fn keeps_keyword_letters_after_flags() {
        let parsed = parse_name("1.M1P1.h:2,Sba");
        assert_eq!(parsed.flags, Flags::SEEN);
        assert_eq!(parsed.other_letters, "ba");
        assert_eq!(
            cur_name(&parsed.base, parsed.flags, &parsed.other_letters),
            "1.M1P1.h:2,Sab"
        );
    }

    #[test]
    fn name_without_info_has_no_flags() {
        let parsed = parse_name("1.M1P1.h,S=3");
        assert_eq!(parsed.base, "1.M1P1.h,S=3");
        assert!(parsed.flags.is_empty());
    }

    #[test]
    fn unique_names_differ_within_a_process() {
        assert_ne!(unique_name(1), unique_name(1));
    }

    #[test]
    fn delivery_order_compares_numbers() {
        let mut names = vec!["1700000000.M12P1.h", "1700000000.M5P1.h", "1699999999.M900P1.h"];
        names.sort_by_key(|name| delivery_order_key(name));
        assert_eq!(
            names,
            ["1699999999.M900P1.h", "1700000000.M5P1.h", "1700000000.M12P1.h"]
        );
    }
}
