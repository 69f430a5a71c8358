//! Malformed and oversized input: the server replies BAD, NO or BYE and
//! keeps serving. Forms of real clients that imap-codec 1.0 cannot parse
//! get a clear reply.

mod common;

use common::{Harness, sample_message};

#[tokio::test(flavor = "multi_thread")]
async fn garbage_gets_bad_and_session_continues() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    for line in [
        "FROB",
        "SELECT",
        "FETCH x y",
        "LOGIN",
        "UID",
        "\"unterminated",
        "SEARCH (((",
        "STORE 1 +FLAGS (",
    ] {
        let response = client.command(line).await;
        assert_eq!(response.status(), "BAD", "{line}: {}", response.text());
    }
    client.send(b"\x00\xff\xfe\r\n").await;
    let untagged = client.read_line().await;
    let noop = client.command("NOOP").await;

    assert!(untagged.starts_with("* BAD"), "{untagged}");
    assert!(noop.ok(), "{}", noop.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn blank_lines_are_ignored() {
    let harness = Harness::start();
    let mut client = harness.connect().await;
    client.send(b"\r\n\r\n").await;

    let noop = client.command("NOOP").await;

    assert_eq!(noop.untagged(), Vec::<String>::new());
    assert!(noop.ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_synchronizing_literal_is_refused_without_data() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    client.send(b"a APPEND INBOX {5000000}\r\n").await;
    let refused = client.read_response("a").await;
    let noop = client.command("NOOP").await;

    assert_eq!(refused.status(), "NO");
    assert!(refused.tagged.contains("[TOOBIG]"), "{}", refused.tagged);
    assert!(noop.ok(), "{}", noop.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_literal_before_login_is_refused() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    client.send(b"a LOGIN {100000}\r\n").await;
    let refused = client.read_response("a").await;

    assert!(refused.tagged.contains("NO [TOOBIG]"), "{}", refused.tagged);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_non_synchronizing_literal_ends_the_session() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    client.send(b"a APPEND INBOX {5000000+}\r\n").await;
    let bye = client.read_line().await;

    assert!(bye.starts_with("* BYE"), "{bye}");
    assert_eq!(client.read_line().await, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn overlong_line_ends_the_session() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    let mut line = b"a LOGIN ".to_vec();
    line.extend(std::iter::repeat_n(b'x', 20_000));
    line.extend_from_slice(b"\r\n");
    client.send(&line).await;
    let bye = client.read_line().await;

    assert!(bye.starts_with("* BYE"), "{bye}");
}

#[tokio::test(flavor = "multi_thread")]
async fn changedsince_is_refused_cleanly() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;

    let fetch = client.command("FETCH 1:* (FLAGS) (CHANGEDSINCE 0)").await;
    let uid_fetch = client.command("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)").await;
    let noop = client.command("NOOP").await;

    assert_eq!(fetch.status(), "BAD");
    assert!(fetch.tagged.contains("CONDSTORE"), "{}", fetch.tagged);
    assert_eq!(uid_fetch.status(), "BAD");
    assert!(noop.ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn append_utf8_is_refused_and_its_literal_consumed() {
    let harness = Harness::start();
    let mut client = harness.login().await;
    let message = sample_message(1);

    let mut command = format!("a APPEND INBOX UTF8 (~{{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(&message);
    command.extend_from_slice(b")\r\n");
    client.send(&command).await;
    let append = client.read_response("a").await;
    let noop = client.command("NOOP").await;

    assert_eq!(append.status(), "BAD");
    assert!(append.tagged.contains("UTF8=ACCEPT"), "{}", append.tagged);
    assert!(noop.ok(), "{}", noop.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_sequence_sets_are_cheap() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;
    let set = vec!["1:4294967295"; 3000].join(",");

    let fetch = client.command(&format!("FETCH {set} UID")).await;
    let search = client.command(&format!("SEARCH UID {set}")).await;

    assert_eq!(fetch.untagged(), ["* 1 FETCH (UID 1)"]);
    assert_eq!(search.untagged(), ["* SEARCH 1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_search_is_refused() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;
    let nested = format!("{}ALL{}", "NOT ".repeat(200), "");

    let search = client.command(&format!("SEARCH {nested}")).await;
    let noop = client.command("NOOP").await;

    assert_ne!(search.status(), "OK", "{}", search.text());
    assert!(noop.ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_mime_is_summarised() {
    let harness = Harness::start();
    let depth = 200;
    let mut message = String::from("Subject: deep\r\n");
    for level in 0..depth {
        message.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        ));
    }
    message.push_str("Content-Type: text/plain\r\n\r\nleaf\r\n");
    for level in (0..depth).rev() {
        message.push_str(&format!("--b{level}--\r\n"));
    }
    harness.deliver(message.as_bytes());
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;

    let structure = client.command("FETCH 1 BODYSTRUCTURE").await;

    assert!(structure.ok(), "{}", structure.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn message_with_nul_bytes_is_fetched_with_replacement() {
    let harness = Harness::start();
    harness.deliver(b"Subject: nul\r\n\r\na\0b\r\n");
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;

    let fetch = client.command("FETCH 1 BODY.PEEK[TEXT]").await;

    assert_eq!(common::client::first_literal(&fetch.bytes), b"a\x80b\r\n");
}
