//! Selected-state commands: SELECT, FETCH, STORE, SEARCH, EXPUNGE, APPEND,
//! COPY and MOVE, checked against messages delivered through the store.

mod common;

use common::client::first_literal;
use common::{Harness, sample_message};

async fn selected_with(harness: &Harness, count: u32) -> common::client::Client {
    for n in 1..=count {
        harness.deliver(&sample_message(n));
    }
    let mut client = harness.login().await;
    let select = client.command("SELECT INBOX").await;
    assert!(select.ok(), "{}", select.text());
    client
}

#[tokio::test(flavor = "multi_thread")]
async fn select_reports_mailbox_state() {
    let harness = Harness::start();
    for n in 1..=2 {
        harness.deliver(&sample_message(n));
    }
    let mut client = harness.login().await;

    let select = client.command("SELECT INBOX").await;

    let text = select.text();
    assert!(select.tagged.contains("[READ-WRITE]"), "{text}");
    assert!(
        text.contains("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"),
        "{text}"
    );
    assert!(
        text.contains("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)]"),
        "{text}"
    );
    assert!(text.contains("* 2 EXISTS"), "{text}");
    assert!(text.contains("* 2 RECENT"), "{text}");
    assert!(text.contains("* OK [UNSEEN 1]"), "{text}");
    assert!(text.contains("* OK [UIDVALIDITY "), "{text}");
    assert!(text.contains("* OK [UIDNEXT 3]"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recent_goes_to_one_session_only() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut first = harness.login().await;
    let mut second = harness.login().await;

    let selected = first.command("SELECT INBOX").await;
    let examined = second.command("SELECT INBOX").await;

    assert!(selected.text().contains("* 1 RECENT"), "{}", selected.text());
    assert!(examined.text().contains("* 0 RECENT"), "{}", examined.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn examine_is_read_only() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut client = harness.login().await;

    let examine = client.command("EXAMINE INBOX").await;
    let store = client.command("STORE 1 +FLAGS (\\Seen)").await;
    let fetch = client.command("FETCH 1 (BODY[] FLAGS)").await;

    assert!(examine.tagged.contains("[READ-ONLY]"), "{}", examine.tagged);
    assert!(examine.text().contains("[PERMANENTFLAGS ()]"), "{}", examine.text());
    assert_eq!(store.status(), "NO");
    assert!(!fetch.text().contains("\\Seen"), "{}", fetch.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn uid_fetch_body_is_byte_identical() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 2).await;

    let fetch = client.command("UID FETCH 2 (BODY.PEEK[])").await;

    assert!(fetch.ok(), "{}", fetch.text());
    assert!(
        fetch.text().starts_with("* 2 FETCH (UID 2 BODY[] {"),
        "{}",
        fetch.text()
    );
    assert_eq!(first_literal(&fetch.bytes), sample_message(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_fast_all_and_full_macros() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;
    let size = sample_message(1).len();

    let fast = client.command("FETCH 1 FAST").await;
    let all = client.command("FETCH 1 ALL").await;
    let full = client.command("FETCH 1 FULL").await;

    assert!(fast.text().contains(&format!("RFC822.SIZE {size}")), "{}", fast.text());
    assert!(fast.text().contains("INTERNALDATE \""), "{}", fast.text());
    assert!(
        all.text()
            .contains("ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"sample 1\""),
        "{}",
        all.text()
    );
    assert!(
        full.text()
            .contains("BODY (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 31 2)"),
        "{}",
        full.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_envelope_lists_addresses() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;

    let fetch = client.command("FETCH 1 ENVELOPE").await;

    let text = fetch.text();
    assert!(text.contains("((\"Bob\" NIL \"bob\" \"example.net\"))"), "{text}");
    assert!(text.contains("((NIL NIL \"alice\" \"example.test\"))"), "{text}");
    assert!(text.contains("\"<1@example.net>\""), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_header_text_and_fields() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;
    let message = sample_message(1);
    let split = message.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;

    let header = client.command("FETCH 1 BODY.PEEK[HEADER]").await;
    let text = client.command("FETCH 1 BODY.PEEK[TEXT]").await;
    let fields = client.command("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]").await;
    let not = client
        .command("FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM DATE MESSAGE-ID)]")
        .await;
    let rfc822_header = client.command("FETCH 1 RFC822.HEADER").await;

    assert_eq!(first_literal(&header.bytes), &message[..split]);
    assert_eq!(first_literal(&text.bytes), &message[split..]);
    assert_eq!(
        first_literal(&fields.bytes),
        b"From: Bob <bob@example.net>\r\nSubject: sample 1\r\n\r\n"
    );
    assert!(
        fields.text().contains("BODY[HEADER.FIELDS (SUBJECT FROM)]"),
        "{}",
        fields.text()
    );
    assert_eq!(first_literal(&not.bytes), b"To: alice@example.test\r\n\r\n");
    assert_eq!(first_literal(&rfc822_header.bytes), &message[..split]);
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_partial_ranges() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;

    let partial = client.command("FETCH 1 BODY.PEEK[]<6.3>").await;
    let past_end = client.command("FETCH 1 BODY.PEEK[]<100000.10>").await;

    assert!(partial.text().contains("BODY[]<6> {3}"), "{}", partial.text());
    assert_eq!(first_literal(&partial.bytes), b"Bob");
    assert_eq!(first_literal(&past_end.bytes), b"");
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_mime_parts_and_bodystructure() {
    let harness = Harness::start();
    let message = b"From: a@example.net\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst part\r\n--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--b2\r\nContent-Type: text/html\r\n\r\n<b>inner</b>\r\n--b2--\r\n\r\n--b1\r\nContent-Type: application/octet-stream; name=\"x.bin\"\r\nContent-Disposition: attachment; filename=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b1--\r\n";
    harness.deliver(message);
    let mut client = selected_with(&harness, 0).await;

    let first = client.command("FETCH 1 BODY.PEEK[1]").await;
    let nested = client.command("FETCH 1 BODY.PEEK[2.2]").await;
    let mime = client.command("FETCH 1 BODY.PEEK[3.MIME]").await;
    let missing = client.command("FETCH 1 BODY.PEEK[9]").await;
    let structure = client.command("FETCH 1 BODYSTRUCTURE").await;

    assert_eq!(first_literal(&first.bytes), b"first part");
    assert_eq!(first_literal(&nested.bytes), b"<b>inner</b>");
    assert!(first_literal(&mime.bytes).starts_with(b"Content-Type: application/octet-stream"));
    assert!(missing.text().contains("BODY[9] NIL"), "{}", missing.text());
    let text = structure.text();
    assert!(
        text.contains("(\"TEXT\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 10 0"),
        "{text}"
    );
    assert!(text.contains("\"alternative\""), "{text}");
    assert!(text.contains("(\"attachment\" (\"filename\" \"x.bin\"))"), "{text}");
    assert!(text.contains("\"mixed\" (\"boundary\" \"b1\")"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn body_fetch_sets_seen_but_peek_does_not() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 2).await;

    let peek = client.command("FETCH 1 (BODY.PEEK[] FLAGS)").await;
    let body = client.command("FETCH 2 BODY[TEXT]").await;
    let flags = client.command("FETCH 1:2 FLAGS").await;

    assert!(!peek.text().contains("\\Seen"), "{}", peek.text());
    assert!(body.text().contains("FLAGS (\\Seen \\Recent)"), "{}", body.text());
    assert!(
        flags.text().contains("* 1 FETCH (FLAGS (\\Recent))"),
        "{}",
        flags.text()
    );
    assert!(
        flags.text().contains("* 2 FETCH (FLAGS (\\Seen \\Recent))"),
        "{}",
        flags.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn store_changes_flags_in_file_names() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;

    let add = client.command("STORE 1 +FLAGS (\\Flagged \\Answered)").await;
    let remove = client.command("STORE 1 -FLAGS (\\Answered)").await;
    let silent = client.command("UID STORE 1 +FLAGS.SILENT (\\Seen)").await;
    let replace = client.command("STORE 1 FLAGS (\\Draft \\Seen)").await;

    assert!(
        add.text()
            .contains("* 1 FETCH (FLAGS (\\Answered \\Flagged \\Recent) UID 1)"),
        "{}",
        add.text()
    );
    assert!(
        remove.text().contains("FLAGS (\\Flagged \\Recent)"),
        "{}",
        remove.text()
    );
    assert!(!silent.text().contains("FETCH"), "{}", silent.text());
    assert!(
        replace.text().contains("FLAGS (\\Seen \\Draft \\Recent)"),
        "{}",
        replace.text()
    );
    let cur = harness.store.maildir_path(common::USER).unwrap().join("cur");
    let name = std::fs::read_dir(cur).unwrap().next().unwrap().unwrap().file_name();
    assert!(name.to_string_lossy().ends_with(":2,DS"), "{name:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_by_flags_headers_body_and_size() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 3).await;
    client.command("STORE 2 +FLAGS (\\Seen \\Flagged)").await;

    let cases = [
        ("SEARCH ALL", "* SEARCH 1 2 3"),
        ("SEARCH UNSEEN", "* SEARCH 1 3"),
        ("SEARCH SEEN FLAGGED", "* SEARCH 2"),
        ("SEARCH NOT FLAGGED", "* SEARCH 1 3"),
        ("SEARCH OR 1 3", "* SEARCH 1 3"),
        ("SEARCH SUBJECT \"sample 3\"", "* SEARCH 3"),
        ("SEARCH FROM bob@example.net", "* SEARCH 1 2 3"),
        ("SEARCH TO nobody", "* SEARCH"),
        ("SEARCH BODY \"number 2\"", "* SEARCH 2"),
        ("SEARCH TEXT \"SAMPLE 1\"", "* SEARCH 1"),
        ("SEARCH HEADER Message-ID <3@example.net>", "* SEARCH 3"),
        ("SEARCH LARGER 10 SMALLER 100000", "* SEARCH 1 2 3"),
        ("SEARCH SENTON 7-Feb-1994", "* SEARCH 1 2 3"),
        ("SEARCH SINCE 1-Jan-2000", "* SEARCH 1 2 3"),
        ("SEARCH BEFORE 1-Jan-2000", "* SEARCH"),
        ("SEARCH NEW", "* SEARCH 1 3"),
        ("SEARCH 2:*", "* SEARCH 2 3"),
        ("UID SEARCH UID 2:3 UNSEEN", "* SEARCH 3"),
        ("SEARCH CHARSET UTF-8 SUBJECT sample", "* SEARCH 1 2 3"),
    ];
    for (command, expected) in cases {
        let response = client.command(command).await;
        assert!(response.ok(), "{command}: {}", response.text());
        let line = response
            .untagged()
            .into_iter()
            .find(|l| l.starts_with("* SEARCH"))
            .unwrap_or_default();
        assert_eq!(line.trim_end(), expected, "{command}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn search_rejects_unknown_charset() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;

    let response = client.command("SEARCH CHARSET KOI8-R ALL").await;

    assert_eq!(response.status(), "NO");
    assert!(response.tagged.contains("[BADCHARSET"), "{}", response.tagged);
}

#[tokio::test(flavor = "multi_thread")]
async fn expunge_removes_deleted_messages() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 3).await;
    client.command("STORE 1,3 +FLAGS.SILENT (\\Deleted)").await;

    let expunge = client.command("EXPUNGE").await;
    let fetch = client.command("FETCH 1:* UID").await;

    assert_eq!(expunge.untagged(), ["* 3 EXPUNGE", "* 1 EXPUNGE"]);
    assert_eq!(fetch.untagged(), ["* 1 FETCH (UID 2)"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn uid_expunge_removes_only_listed_messages() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 3).await;
    client.command("STORE 1:3 +FLAGS.SILENT (\\Deleted)").await;

    let expunge = client.command("UID EXPUNGE 2").await;

    assert!(expunge.ok(), "{}", expunge.text());
    assert_eq!(expunge.untagged(), ["* 2 EXPUNGE"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn close_expunges_silently_and_unselect_does_not() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 2).await;
    client.command("STORE 1 +FLAGS.SILENT (\\Deleted)").await;

    let unselect = client.command("UNSELECT").await;
    let reselect = client.command("SELECT INBOX").await;
    let close = client.command("CLOSE").await;
    let status = client.command("STATUS INBOX (MESSAGES)").await;

    assert!(unselect.ok());
    assert!(reselect.text().contains("* 2 EXISTS"), "{}", reselect.text());
    assert!(close.untagged().is_empty(), "{}", close.text());
    assert!(status.text().contains("(MESSAGES 1)"), "{}", status.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn append_returns_appenduid_and_stores_bytes() {
    let harness = Harness::start();
    let mut client = harness.login().await;
    let message = sample_message(7);

    client
        .send(
            format!(
                "a APPEND INBOX (\\Seen) \"14-Jul-2020 02:44:25 +0000\" {{{}}}\r\n",
                message.len()
            )
            .as_bytes(),
        )
        .await;
    let continuation = client.read_line().await;
    client.send(&message).await;
    client.send(b"\r\n").await;
    let append = client.read_response("a").await;
    client.command("SELECT INBOX").await;
    let fetch = client.command("UID FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])").await;

    assert!(continuation.starts_with("+ "), "{continuation}");
    assert!(append.ok(), "{}", append.text());
    assert!(append.tagged.contains("[APPENDUID "), "{}", append.tagged);
    assert!(append.tagged.contains(" 1] "), "{}", append.tagged);
    assert!(fetch.text().contains("FLAGS (\\Seen \\Recent)"), "{}", fetch.text());
    assert!(
        fetch.text().contains("INTERNALDATE \"14-Jul-2020 02:44:25 +0000\""),
        "{}",
        fetch.text()
    );
    assert_eq!(first_literal(&fetch.bytes), message);
}

#[tokio::test(flavor = "multi_thread")]
async fn append_accepts_non_synchronizing_literal() {
    let harness = Harness::start();
    let mut client = harness.login().await;
    let message = sample_message(8);

    let mut command = format!("a APPEND Drafts {{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(&message);
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let append = client.read_response("a").await;

    assert!(append.ok(), "{}", append.text());
    assert!(!append.text().contains("+ Ready"), "{}", append.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn append_to_selected_mailbox_reports_exists() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;
    let message = sample_message(9);

    let mut command = format!("a APPEND INBOX {{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(&message);
    command.extend_from_slice(b"\r\n");
    client.send(&command).await;
    let append = client.read_response("a").await;

    assert!(append.text().contains("* 2 EXISTS"), "{}", append.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn append_to_missing_mailbox_asks_to_create() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let append = client.command("APPEND Nowhere {2+}\r\nhi").await;

    assert_eq!(append.status(), "NO");
    assert!(append.tagged.contains("[TRYCREATE]"), "{}", append.tagged);
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_reports_copyuid_and_keeps_flags() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 3).await;
    client.command("STORE 2 +FLAGS.SILENT (\\Flagged)").await;

    let copy = client.command("COPY 2:3 Archive").await;
    let status = client.command("STATUS Archive (MESSAGES UIDNEXT)").await;
    client.command("SELECT Archive").await;
    let fetch = client.command("UID FETCH 1:* (FLAGS BODY.PEEK[])").await;

    assert!(copy.ok(), "{}", copy.text());
    assert!(copy.tagged.contains(" 2:3 1:2] "), "{}", copy.tagged);
    assert!(status.text().contains("MESSAGES 2"), "{}", status.text());
    assert!(
        fetch.text().contains("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent)"),
        "{}",
        fetch.text()
    );
    assert_eq!(first_literal(&fetch.bytes), sample_message(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn move_expunges_from_the_source() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 3).await;

    let moved = client.command("UID MOVE 1,3 Trash").await;
    let status = client.command("STATUS Trash (MESSAGES)").await;
    let remaining = client.command("UID FETCH 1:* UID").await;

    let untagged = moved.untagged();
    assert!(untagged[0].starts_with("* OK [COPYUID "), "{}", moved.text());
    assert!(untagged[0].contains(" 1,3 1:2]"), "{}", moved.text());
    assert_eq!(&untagged[1..], ["* 3 EXPUNGE", "* 1 EXPUNGE"]);
    assert!(status.text().contains("(MESSAGES 2)"), "{}", status.text());
    assert_eq!(remaining.untagged(), ["* 1 FETCH (UID 2)"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_to_missing_mailbox_asks_to_create() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;

    let copy = client.command("COPY 1 Nowhere").await;

    assert!(copy.tagged.contains("NO [TRYCREATE]"), "{}", copy.tagged);
}

#[tokio::test(flavor = "multi_thread")]
async fn noop_reports_new_delivery() {
    let harness = Harness::start();
    let mut client = selected_with(&harness, 1).await;
    harness.deliver(&sample_message(2));

    let noop = client.command("NOOP").await;

    assert!(noop.text().contains("* 2 EXISTS"), "{}", noop.text());
    assert!(noop.text().contains("* 2 RECENT"), "{}", noop.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_expunge_waits_for_noop() {
    let harness = Harness::start();
    let mut first = selected_with(&harness, 2).await;
    let mut second = harness.login().await;
    second.command("SELECT INBOX").await;
    second.command("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    second.command("EXPUNGE").await;

    let fetch = first.command("FETCH 1:* UID").await;
    let noop = first.command("NOOP").await;

    assert!(!fetch.text().contains("EXPUNGE"), "{}", fetch.text());
    assert!(fetch.text().contains("* 2 FETCH (UID 2)"), "{}", fetch.text());
    assert!(noop.untagged().contains(&"* 1 EXPUNGE".to_owned()), "{}", noop.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn flag_changes_by_another_session_are_reported() {
    let harness = Harness::start();
    let mut first = selected_with(&harness, 1).await;
    let mut second = harness.login().await;
    second.command("SELECT INBOX").await;
    second.command("STORE 1 +FLAGS (\\Answered)").await;

    let noop = first.command("NOOP").await;

    assert!(
        noop.text().contains("* 1 FETCH (FLAGS (\\Answered \\Recent) UID 1)"),
        "{}",
        noop.text()
    );
}
