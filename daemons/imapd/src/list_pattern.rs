//! LIST and LSUB mailbox patterns (RFC 3501 section 6.3.8): `*` matches any
//! text, `%` matches any text without the hierarchy separator.

use mailroom_store::SEPARATOR;

/// Maximum pattern length in bytes; matching costs pattern length times
/// name length.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// Joins a LIST reference and pattern into one pattern, as Dovecot does:
/// the reference is a prefix of the names to list.
pub fn full_pattern(reference: &str, pattern: &str) -> String {
    format!("{reference}{pattern}")
}

/// Returns whether mailbox `name` matches `pattern`. INBOX matches in any
/// letter case, as its name is case-insensitive.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern = inbox_upper(pattern);
    let pattern = pattern.as_bytes();
    let name = name.as_bytes();

    // reachable[j]: the pattern so far can match the first j bytes of name.
    let mut reachable = vec![false; name.len() + 1];
    reachable[0] = true;
    for &symbol in pattern {
        let mut next = vec![false; name.len() + 1];
        match symbol {
            b'*' | b'%' => {
                let mut open = false;
                for j in 0..=name.len() {
                    open |= reachable[j];
                    next[j] = open;
                    if symbol == b'%' && j < name.len() && name[j] == SEPARATOR as u8 {
                        open = false;
                    }
                }
            }
            literal => {
                for j in 0..name.len() {
                    next[j + 1] = reachable[j] && name[j] == literal;
                }
            }
        }
        reachable = next;
    }
    reachable[name.len()]
}

/// Writes a leading `inbox` level of the pattern in upper case.
fn inbox_upper(pattern: &str) -> String {
    let first = pattern.split(SEPARATOR).next().unwrap_or_default();
    if first.eq_ignore_ascii_case("INBOX") {
        format!("INBOX{}", &pattern[first.len()..])
    } else {
        pattern.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_crosses_levels() {
        assert!(matches("*", "INBOX"));
        assert!(matches("*", "a.b.c"));
        assert!(matches("a*", "a.b"));
        assert!(!matches("b*", "a.b"));
    }

    #[test]
    fn percent_stays_in_one_level() {
        assert!(matches("%", "Sent"));
        assert!(!matches("%", "a.b"));
        assert!(matches("a.%", "a.b"));
        assert!(!matches("a.%", "a.b.c"));
        assert!(matches("%.%", "a.b"));
    }

    #[test]
    fn inbox_is_case_insensitive() {
        assert!(matches("inbox", "INBOX"));
        assert!(matches("Inbox.%", "INBOX.x"));
        assert!(!matches("sent", "Sent"));
    }

    #[test]
    fn literal_patterns_match_exactly() {
        assert!(matches("Sent", "Sent"));
        assert!(!matches("Sent", "Sent.x"));
        assert!(matches("", ""));
    }
}
