//! Folder indexes and UID lists, checked through the public API against a
//! temporary mail root.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use mailroom_store::{Flags, MailboxName, Store, Transfer, UIDLIST_FILE, uidlist};

const ALICE: &str = "alice@example.test";

fn inbox(store: &Store) -> mailroom_store::SharedFolder {
    store.account(ALICE).unwrap().open(&MailboxName::inbox()).unwrap()
}

fn uids(folder: &mailroom_store::SharedFolder) -> Vec<u32> {
    folder
        .with(|f| Ok(f.messages().iter().map(|m| m.uid).collect()))
        .unwrap()
}

fn deliver(store: &Store, body: &str) {
    store
        .deliver(
            &[ALICE.to_owned()],
            format!("Subject: {body}\r\n\r\n{body}\r\n").as_bytes(),
        )
        .unwrap();
}

fn dir_entries(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn new_mail_gets_increasing_uids_in_delivery_order() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    for body in ["one", "two", "three"] {
        deliver(&store, body);
    }

    let folder = inbox(&store);
    assert_eq!(uids(&folder), [1, 2, 3]);

    let first = folder.read_message(1).unwrap().unwrap();
    assert!(first.bytes.starts_with(b"Subject: one"));
    let third = folder.read_message(3).unwrap().unwrap();
    assert!(third.bytes.starts_with(b"Subject: three"));
}

#[test]
fn moves_new_mail_to_cur_with_empty_info() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    let folder = inbox(&store);
    folder.with(|f| f.refresh()).unwrap();

    let maildir = store.maildir_path(ALICE).unwrap();
    assert!(dir_entries(&maildir.join("new")).is_empty());
    let cur = dir_entries(&maildir.join("cur"));
    assert_eq!(cur.len(), 1);
    assert!(cur[0].ends_with(":2,"), "{cur:?}");
}

#[test]
fn uids_and_uidvalidity_survive_reopening() {
    let root = tempfile::tempdir().unwrap();
    deliver(&Store::new(root.path()), "one");
    deliver(&Store::new(root.path()), "two");
    let first = Store::new(root.path());
    let folder = inbox(&first);
    let validity = folder.with(|f| Ok(f.uid_validity())).unwrap();
    folder.with(|f| f.expunge(&[1])).unwrap();
    drop(folder);
    drop(first);

    // A new Store has the state of a restarted process.
    let second = Store::new(root.path());
    deliver(&second, "three");
    let folder = inbox(&second);
    assert_eq!(uids(&folder), [2, 3]);
    assert_eq!(folder.with(|f| Ok(f.uid_validity())).unwrap(), validity);
    assert_eq!(folder.with(|f| Ok(f.next_uid())).unwrap(), 4);
}

#[test]
fn flags_survive_reopening_through_file_names() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    let flags = Flags::SEEN.union(Flags::FLAGGED).union(Flags::DELETED);
    inbox(&store).with(|f| f.set_flags(1, flags)).unwrap();

    let maildir = store.maildir_path(ALICE).unwrap();
    let cur = dir_entries(&maildir.join("cur"));
    assert!(cur[0].ends_with(":2,FST"), "{cur:?}");

    drop(store);
    let reopened = inbox(&Store::new(root.path()));
    let stored = reopened.with(|f| Ok(f.find(1).unwrap().flags)).unwrap();
    assert_eq!(stored, flags);
}

#[test]
fn sees_flags_changed_by_another_program() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    let folder = inbox(&store);
    folder.with(|f| f.refresh()).unwrap();

    let cur = store.maildir_path(ALICE).unwrap().join("cur");
    let name = dir_entries(&cur).remove(0);
    fs::rename(cur.join(&name), cur.join(format!("{name}RS"))).unwrap();
    // Some file systems keep whole-second directory times.
    let later = SystemTime::now() + Duration::from_secs(2);
    fs::File::open(&cur).unwrap().set_modified(later).unwrap();

    folder.with(|f| f.refresh()).unwrap();
    let flags = folder.with(|f| Ok(f.find(1).unwrap().flags)).unwrap();
    assert_eq!(flags, Flags::ANSWERED.union(Flags::SEEN));
}

#[test]
fn append_is_durable_and_numbered() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let folder = inbox(&store);
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);

    let uid = folder
        .with(|f| f.append(b"Subject: appended\r\n\r\nbody\r\n", Flags::SEEN, Some(date)))
        .unwrap();

    assert_eq!(uid, 1);
    let maildir = store.maildir_path(ALICE).unwrap();
    assert!(dir_entries(&maildir.join("tmp")).is_empty());
    let cur = dir_entries(&maildir.join("cur"));
    assert!(cur[0].ends_with(":2,S"), "{cur:?}");
    let list = uidlist::parse(&fs::read(maildir.join(UIDLIST_FILE)).unwrap()).unwrap();
    assert_eq!(list.records.len(), 1);
    assert_eq!(list.records[0].uid, 1);
    assert!(cur[0].starts_with(&list.records[0].base));
    let stored = folder.read_message(uid).unwrap().unwrap();
    assert_eq!(stored.internal_date, date);
    assert!(!maildir.join("dovecot-uidlist.lock").exists());
}

#[test]
fn uidlist_matches_dovecot_grammar() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    deliver(&store, "two");
    let folder = inbox(&store);
    folder
        .with(|f| f.append(b"Subject: x\r\n\r\n", Flags::empty(), None))
        .unwrap();

    let text = fs::read_to_string(store.maildir_path(ALICE).unwrap().join(UIDLIST_FILE)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(' ').collect();
    assert_eq!(header[0], "3");
    assert!(header[1].strip_prefix('V').unwrap().parse::<u32>().unwrap() > 0);
    assert_eq!(header[2], "N4");
    let mut previous = 0;
    for line in lines {
        let (fields, name) = line.split_once(" :").unwrap();
        let mut fields = fields.split(' ');
        let uid: u32 = fields.next().unwrap().parse().unwrap();
        assert!(uid > previous, "UIDs not ascending in {text}");
        previous = uid;
        for field in fields {
            assert!(
                field.starts_with(|c: char| c.is_ascii_uppercase()),
                "field {field:?} in {text}"
            );
        }
        assert!(!name.contains(':'), "name {name:?}");
        assert!(!name.contains(' '), "name {name:?}");
        assert!(!name.is_empty(), "empty name in {text}");
    }
    assert!(text.ends_with('\n'));
}

#[test]
fn keeps_dovecot_header_fields() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    let maildir = store.maildir_path(ALICE).unwrap();
    fs::write(
        maildir.join(UIDLIST_FILE),
        "3 V1234 N7 G0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();

    let folder = inbox(&store);
    assert_eq!(uids(&folder), [7]);
    assert_eq!(folder.with(|f| Ok(f.uid_validity())).unwrap(), 1234);
    let text = fs::read_to_string(maildir.join(UIDLIST_FILE)).unwrap();
    assert!(
        text.starts_with("3 V1234 N8 G0123456789abcdef0123456789abcdef\n"),
        "{text}"
    );
}

#[test]
fn corrupt_uidlist_renumbers_under_new_uidvalidity() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    let maildir = store.maildir_path(ALICE).unwrap();
    fs::write(maildir.join(UIDLIST_FILE), "garbage\n").unwrap();

    let folder = inbox(&store);
    assert_eq!(uids(&folder), [1]);
    assert!(folder.with(|f| Ok(f.uid_validity())).unwrap() > 1);
}

#[test]
fn expunge_unlinks_and_rewrites_the_list() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    deliver(&store, "one");
    deliver(&store, "two");
    let folder = inbox(&store);

    let removed = folder.with(|f| f.expunge(&[1, 99])).unwrap();

    assert_eq!(removed, [1]);
    let maildir = store.maildir_path(ALICE).unwrap();
    assert_eq!(dir_entries(&maildir.join("cur")).len(), 1);
    let list = uidlist::parse(&fs::read(maildir.join(UIDLIST_FILE)).unwrap()).unwrap();
    let listed: Vec<u32> = list.records.iter().map(|r| r.uid).collect();
    assert_eq!(listed, [2]);
}

#[test]
fn copy_and_move_keep_flags() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let account = store.account(ALICE).unwrap();
    account.prepare().unwrap();
    deliver(&store, "one");
    deliver(&store, "two");
    let source = inbox(&store);
    source.with(|f| f.set_flags(1, Flags::SEEN)).unwrap();
    let target = account.open(&MailboxName::parse("Archive").unwrap()).unwrap();

    let sources = source.with(|f| Ok(f.transfer_sources(&[1]))).unwrap();
    let copied = target.with(|f| f.import(&sources, Transfer::Copy)).unwrap();
    let sources = source.with(|f| Ok(f.transfer_sources(&[2]))).unwrap();
    let moved = target.with(|f| f.import(&sources, Transfer::Move)).unwrap();

    assert_eq!(copied, [(1, 1)]);
    assert_eq!(moved, [(2, 2)]);
    assert_eq!(target.with(|f| Ok(f.find(1).unwrap().flags)).unwrap(), Flags::SEEN);
    assert!(
        target
            .read_message(2)
            .unwrap()
            .unwrap()
            .bytes
            .starts_with(b"Subject: two")
    );
    assert!(source.read_message(1).unwrap().is_some());
    assert!(source.read_message(2).unwrap().is_none());
}

#[test]
fn prepare_creates_special_use_mailboxes() {
    let root = tempfile::tempdir().unwrap();
    let account = Store::new(root.path()).account(ALICE).unwrap();

    account.prepare().unwrap();

    let names: Vec<String> = account
        .mailboxes()
        .unwrap()
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    assert_eq!(names, ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]);
    assert!(account.maildir().join(".Sent/maildirfolder").is_file());
    assert!(account.maildir().join(".Sent/tmp").is_dir());
    let subscribed = account.subscriptions().unwrap();
    assert_eq!(subscribed, ["Sent", "Drafts", "Trash", "Junk", "Archive"]);
}

#[test]
fn rename_moves_children_and_keeps_uids() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let account = store.account(ALICE).unwrap();
    let name = |n: &str| MailboxName::parse(n).unwrap();
    account.create(&name("a")).unwrap();
    account.create(&name("a.b")).unwrap();
    let folder = account.open(&name("a")).unwrap();
    folder
        .with(|f| f.append(b"Subject: x\r\n\r\n", Flags::empty(), None))
        .unwrap();
    let validity = folder.with(|f| Ok(f.uid_validity())).unwrap();

    account.rename(&name("a"), &name("c")).unwrap();

    let names: Vec<String> = account
        .mailboxes()
        .unwrap()
        .iter()
        .map(|l| l.name.to_string())
        .collect();
    assert_eq!(names, ["INBOX", "c", "c.b"]);
    assert!(
        folder.with(|f| Ok(f.uid_validity())).is_err(),
        "the old handle must report the mailbox gone"
    );
    let renamed = account.open(&name("c")).unwrap();
    assert_eq!(renamed.with(|f| Ok(f.uid_validity())).unwrap(), validity);
    assert_eq!(uids(&renamed), [1]);
}

#[test]
fn rename_rejects_existing_target() {
    let root = tempfile::tempdir().unwrap();
    let account = Store::new(root.path()).account(ALICE).unwrap();
    let name = |n: &str| MailboxName::parse(n).unwrap();
    account.create(&name("a")).unwrap();
    account.create(&name("b")).unwrap();
    assert!(matches!(
        account.rename(&name("a"), &name("b")),
        Err(mailroom_store::Error::MailboxExists(_))
    ));
    assert!(matches!(
        account.rename(&name("a"), &name("a.x")),
        Err(mailroom_store::Error::MailboxExists(_))
    ));
}

#[test]
fn delete_removes_folder_and_refuses_parents() {
    let root = tempfile::tempdir().unwrap();
    let account = Store::new(root.path()).account(ALICE).unwrap();
    let name = |n: &str| MailboxName::parse(n).unwrap();
    account.create(&name("a")).unwrap();
    account.create(&name("a.b")).unwrap();

    let refused = account.delete(&name("a"));
    account.delete(&name("a.b")).unwrap();
    account.delete(&name("a")).unwrap();

    assert!(matches!(refused, Err(mailroom_store::Error::MailboxHasChildren(_))));
    assert_eq!(dir_entries(account.maildir()), ["cur", "new", "tmp"]);
    assert!(matches!(
        account.delete(&MailboxName::inbox()),
        Err(mailroom_store::Error::InboxNotRemovable)
    ));
}

#[test]
fn recreated_mailbox_gets_new_uidvalidity() {
    let root = tempfile::tempdir().unwrap();
    let account = Store::new(root.path()).account(ALICE).unwrap();
    let name = MailboxName::parse("x").unwrap();
    account.create(&name).unwrap();
    let first = account.open(&name).unwrap().with(|f| Ok(f.uid_validity())).unwrap();
    account.delete(&name).unwrap();
    account.create(&name).unwrap();
    let second = account.open(&name).unwrap().with(|f| Ok(f.uid_validity())).unwrap();
    assert_ne!(first, second);
}

#[test]
fn lists_missing_parent_levels_as_not_selectable() {
    let root = tempfile::tempdir().unwrap();
    let account = Store::new(root.path()).account(ALICE).unwrap();
    account.create(&MailboxName::parse("x.y").unwrap()).unwrap();

    let listings = account.mailboxes().unwrap();
    let parent = listings.iter().find(|l| l.name.as_str() == "x").unwrap();
    assert!(!parent.selectable);
    assert!(parent.has_children);
    let child = listings.iter().find(|l| l.name.as_str() == "x.y").unwrap();
    assert!(child.selectable);
    assert!(!child.has_children);
}

#[test]
fn reads_bare_lf_messages_with_crlf() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    store.deliver(&[ALICE.to_owned()], b"Subject: lf\n\nbody\n").unwrap();
    let folder = inbox(&store);

    let message = folder.read_message(1).unwrap().unwrap();
    let size = folder.with(|f| Ok(f.find(1).unwrap().size)).unwrap();

    assert_eq!(message.bytes, b"Subject: lf\r\n\r\nbody\r\n");
    assert_eq!(size, message.bytes.len() as u64);
}

#[test]
fn subscriptions_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let account = Store::new(root.path()).account(ALICE).unwrap();
    let name = MailboxName::parse("Lists").unwrap();
    account.subscribe(&name).unwrap();
    account.subscribe(&name).unwrap();
    assert_eq!(account.subscriptions().unwrap(), ["Lists"]);
    account.unsubscribe(&name).unwrap();
    assert!(account.subscriptions().unwrap().is_empty());
}

#[test]
fn keeps_both_files_with_one_unique_name() {
    let root = tempfile::tempdir().unwrap();
    let store = Store::new(root.path());
    let maildir = store.maildir_path(ALICE).unwrap();
    mailroom_store::ensure_maildir(&maildir).unwrap();
    fs::write(maildir.join("cur/1.M1P1.host:2,S"), b"Subject: a\r\n\r\n").unwrap();
    fs::write(maildir.join("cur/1.M1P1.host:2,"), b"Subject: b\r\n\r\n").unwrap();

    let folder = inbox(&store);

    assert_eq!(uids(&folder), [1, 2]);
    assert_eq!(dir_entries(&maildir.join("cur")).len(), 2);
}
