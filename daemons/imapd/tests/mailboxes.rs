//! Mailbox commands: LIST, LSUB, CREATE, DELETE, RENAME, SUBSCRIBE, STATUS,
//! NAMESPACE, ID and ENABLE.

mod common;

use common::{Harness, sample_message};

#[tokio::test(flavor = "multi_thread")]
async fn list_shows_special_use_and_children() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let list = client.command("LIST \"\" \"*\"").await;

    let lines = list.untagged();
    assert!(
        lines.contains(&"* LIST (\\HasNoChildren) \".\" INBOX".to_owned()),
        "{}",
        list.text()
    );
    assert!(
        lines.contains(&"* LIST (\\HasNoChildren \\Sent) \".\" Sent".to_owned()),
        "{}",
        list.text()
    );
    for role in ["Drafts", "Trash", "Junk", "Archive"] {
        assert!(
            lines.contains(&format!("* LIST (\\HasNoChildren \\{role}) \".\" {role}")),
            "{}",
            list.text()
        );
    }
    assert_eq!(lines.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_return_special_use_is_accepted() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let list = client.command("LIST \"\" \"*\" RETURN (SPECIAL-USE)").await;
    let selection = client.command("LIST (SPECIAL-USE) \"\" \"*\"").await;

    assert!(list.ok(), "{}", list.text());
    assert_eq!(list.untagged().len(), 6);
    assert!(selection.ok(), "{}", selection.text());
    assert_eq!(selection.untagged().len(), 5, "{}", selection.text());
    assert!(!selection.text().contains("INBOX"), "{}", selection.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_percent_and_hierarchy() {
    let harness = Harness::start();
    let mut client = harness.login().await;
    assert!(client.command("CREATE Lists.rust").await.ok());

    let top = client.command("LIST \"\" %").await;
    let below = client.command("LIST Lists. %").await;
    let separator = client.command("LIST \"\" \"\"").await;

    assert!(
        top.untagged()
            .contains(&"* LIST (\\Noselect \\HasChildren) \".\" Lists".to_owned()),
        "{}",
        top.text()
    );
    assert!(!top.text().contains("Lists.rust"), "{}", top.text());
    assert_eq!(below.untagged(), ["* LIST (\\HasNoChildren) \".\" Lists.rust"]);
    assert_eq!(separator.untagged(), ["* LIST (\\Noselect) \".\" \"\""]);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_rename_delete_round_trip() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let create = client.command("CREATE Projects.").await;
    let again = client.command("CREATE Projects").await;
    let rename = client.command("RENAME Projects Work").await;
    let missing = client.command("RENAME Projects Other").await;
    let delete = client.command("DELETE Work").await;
    let inbox = client.command("DELETE INBOX").await;
    let list = client.command("LIST \"\" *").await;

    assert!(create.ok(), "{}", create.text());
    assert!(again.tagged.contains("NO [ALREADYEXISTS]"), "{}", again.tagged);
    assert!(rename.ok(), "{}", rename.text());
    assert!(missing.tagged.contains("NO [NONEXISTENT]"), "{}", missing.tagged);
    assert!(delete.ok(), "{}", delete.text());
    assert_eq!(inbox.status(), "NO");
    assert!(!list.text().contains("Work"), "{}", list.text());
    assert!(!list.text().contains("Projects"), "{}", list.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn create_rejects_unsafe_names() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    for name in ["\"../x\"", "\"a/b\"", "\"a..b\"", "\".hidden\""] {
        let response = client.command(&format!("CREATE {name}")).await;
        assert_eq!(response.status(), "NO", "{name}: {}", response.text());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_and_lsub() {
    let harness = Harness::start();
    let mut client = harness.login().await;
    client.command("CREATE News").await;

    let subscribe = client.command("SUBSCRIBE News").await;
    let lsub = client.command("LSUB \"\" *").await;
    let list = client.command("LIST (SUBSCRIBED) \"\" * RETURN (SUBSCRIBED)").await;
    client.command("UNSUBSCRIBE News").await;
    let after = client.command("LSUB \"\" News").await;

    assert!(subscribe.ok());
    assert!(
        lsub.untagged().contains(&"* LSUB () \".\" News".to_owned()),
        "{}",
        lsub.text()
    );
    assert!(list.text().contains("\\Subscribed) \".\" News"), "{}", list.text());
    assert!(after.untagged().is_empty(), "{}", after.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn status_counts_messages() {
    let harness = Harness::start();
    for n in 1..=3 {
        harness.deliver(&sample_message(n));
    }
    let mut client = harness.login().await;

    let status = client
        .command("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")
        .await;

    let text = status.text();
    assert!(
        text.contains("* STATUS INBOX (MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY "),
        "{text}"
    );
    assert!(text.contains(" UNSEEN 3)"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_of_missing_mailbox_fails() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let status = client.command("STATUS Nowhere (MESSAGES)").await;

    assert!(status.tagged.contains("NO [NONEXISTENT]"), "{}", status.tagged);
}

#[tokio::test(flavor = "multi_thread")]
async fn namespace_id_and_enable() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let namespace = client.command("NAMESPACE").await;
    let id = client.command("ID (\"name\" \"test\")").await;
    let enable = client.command("ENABLE CONDSTORE").await;

    assert_eq!(namespace.untagged(), ["* NAMESPACE ((\"\" \".\")) NIL NIL"]);
    assert!(
        id.untagged()[0].starts_with("* ID (\"name\" \"mailroom\""),
        "{}",
        id.text()
    );
    assert!(enable.ok());
    assert_eq!(enable.untagged(), ["* ENABLED"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn select_missing_mailbox_leaves_nothing_selected() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;

    let select = client.command("SELECT Nowhere").await;
    let fetch = client.command("FETCH 1 FLAGS").await;

    assert!(select.tagged.contains("NO [NONEXISTENT]"), "{}", select.tagged);
    assert_eq!(fetch.status(), "BAD");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_selected_mailbox_elsewhere_ends_the_session() {
    let harness = Harness::start();
    let mut first = harness.login().await;
    first.command("CREATE Doomed").await;
    first.command("SELECT Doomed").await;
    let mut second = harness.login().await;
    assert!(second.command("DELETE Doomed").await.ok());

    first.send(b"a NOOP\r\n").await;
    let bye = first.read_line().await;

    assert!(bye.starts_with("* BYE"), "{bye}");
}
