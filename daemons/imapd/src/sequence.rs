//! Resolving sequence sets (RFC 3501 `sequence-set`) against the messages
//! of a session's view.

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// Returns the indexes (sequence number minus one) of the messages that
/// `set` names, ascending and without duplicates.
///
/// `uids` is the session's UID list in sequence order. With `uid_mode` the
/// numbers are UIDs, else sequence numbers. `*` is the last message; a UID
/// range `n:*` includes the last message even when n is above its UID
/// (RFC 3501 section 6.4.8). Numbers that name no message are skipped, and
/// overlapping ranges are merged first, so the work is bounded by the
/// number of ranges plus the number of messages.
pub fn resolve(set: &SequenceSet, uids: &[u32], uid_mode: bool) -> Vec<usize> {
    let mut ranges: Vec<(usize, usize)> = set
        .0
        .as_ref()
        .iter()
        .filter_map(|sequence| index_range(sequence, uids, uid_mode))
        .collect();
    ranges.sort_unstable();

    let mut indexes = Vec::new();
    let mut next = 0;
    for (start, end) in ranges {
        for index in start.max(next)..end {
            indexes.push(index);
        }
        next = next.max(end);
    }
    indexes
}

/// Returns whether message `index` is in `set`, for SEARCH.
pub fn membership(set: &SequenceSet, uids: &[u32], uid_mode: bool) -> Vec<bool> {
    let mut member = vec![false; uids.len()];
    for index in resolve(set, uids, uid_mode) {
        member[index] = true;
    }
    member
}

/// Returns the half-open index range that one sequence covers.
fn index_range(sequence: &Sequence, uids: &[u32], uid_mode: bool) -> Option<(usize, usize)> {
    let last = if uid_mode {
        uids.last().copied()?
    } else {
        u32::try_from(uids.len()).ok()?
    };
    let value = |bound: &SeqOrUid| match bound {
        SeqOrUid::Value(number) => number.get(),
        SeqOrUid::Asterisk => last,
    };
    let (low, high) = match sequence {
        Sequence::Single(bound) => (value(bound), value(bound)),
        Sequence::Range(from, to) => {
            let (a, b) = (value(from), value(to));
            (a.min(b), a.max(b))
        }
    };

    if uid_mode {
        let start = uids.partition_point(|&uid| uid < low);
        let end = uids.partition_point(|&uid| uid <= high);
        (start < end).then_some((start, end))
    } else {
        let start = (low as usize).saturating_sub(1);
        let end = (high as usize).min(uids.len());
        (start < end).then_some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn set(text: &str) -> SequenceSet {
        SequenceSet::from_str(text).unwrap()
    }

    const UIDS: [u32; 5] = [3, 4, 8, 9, 20];

    #[test]
    fn resolves_sequence_numbers() {
        assert_eq!(resolve(&set("2:3,5"), &UIDS, false), [1, 2, 4]);
        assert_eq!(resolve(&set("*"), &UIDS, false), [4]);
        assert_eq!(resolve(&set("4:*"), &UIDS, false), [3, 4]);
    }

    #[test]
    fn resolves_uids() {
        assert_eq!(resolve(&set("4:9"), &UIDS, true), [1, 2, 3]);
        assert_eq!(resolve(&set("5:7"), &UIDS, true), Vec::<usize>::new());
        assert_eq!(resolve(&set("100:*"), &UIDS, true), [4]);
    }

    #[test]
    fn merges_overlapping_ranges() {
        assert_eq!(resolve(&set("1:*,2:3,1:*"), &UIDS, false), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn skips_numbers_past_the_end() {
        assert_eq!(resolve(&set("4:99"), &UIDS, false), [3, 4]);
        assert!(resolve(&set("1:*"), &[], false).is_empty());
        assert!(resolve(&set("1:*"), &[], true).is_empty());
    }
}
