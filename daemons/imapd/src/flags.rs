//! Conversions between the store's Maildir flags and IMAP flags.

use imap_codec::imap_types::flag::{Flag, FlagFetch};
use mailroom_store::Flags;

/// The IMAP system flags that Maildir file names can store, with their
/// store flag. `\Recent` is session state and keywords are not stored.
const SYSTEM_FLAGS: [(Flags, Flag<'static>); 5] = [
    (Flags::ANSWERED, Flag::Answered),
    (Flags::FLAGGED, Flag::Flagged),
    (Flags::DELETED, Flag::Deleted),
    (Flags::SEEN, Flag::Seen),
    (Flags::DRAFT, Flag::Draft),
];

/// Returns the flags defined in a mailbox, for the FLAGS response.
pub fn defined_flags() -> Vec<Flag<'static>> {
    SYSTEM_FLAGS.iter().map(|(_, flag)| flag.clone()).collect()
}

/// Returns the PERMANENTFLAGS response code: the flags a client may store.
///
/// NOTE: keywords (Dovecot's `dovecot-keywords` file) are not stored yet, so
/// `\*` is not offered and STORE ignores keywords.
pub fn permanent_flags_code() -> String {
    let names: Vec<String> = SYSTEM_FLAGS.iter().map(|(_, flag)| flag.to_string()).collect();
    format!("PERMANENTFLAGS ({})", names.join(" "))
}

/// Converts client flags to store flags, ignoring keywords and `\Recent`.
pub fn from_imap(flags: &[Flag<'_>]) -> Flags {
    let mut converted = Flags::empty();
    for flag in flags {
        if let Some((store, _)) = SYSTEM_FLAGS.iter().find(|(_, system)| system == flag) {
            converted = converted.union(*store);
        }
    }
    converted
}

/// Converts store flags to the FLAGS of a FETCH response.
pub fn to_fetch(flags: Flags, recent: bool) -> Vec<FlagFetch<'static>> {
    let mut converted: Vec<FlagFetch<'static>> = SYSTEM_FLAGS
        .iter()
        .filter(|(store, _)| flags.contains(*store))
        .map(|(_, flag)| FlagFetch::Flag(flag.clone()))
        .collect();
    if recent {
        converted.push(FlagFetch::Recent);
    }
    converted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_system_flags_both_ways() {
        let client = [
            Flag::Seen,
            Flag::Deleted,
            Flag::Keyword("$Forwarded".try_into().unwrap()),
        ];
        let stored = from_imap(&client);
        assert_eq!(stored, Flags::SEEN.union(Flags::DELETED));
        assert_eq!(
            to_fetch(stored, true),
            [
                FlagFetch::Flag(Flag::Deleted),
                FlagFetch::Flag(Flag::Seen),
                FlagFetch::Recent
            ]
        );
    }
}
