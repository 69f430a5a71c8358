"""The main job: a message sent by a real SMTP client (swaks) over port-25
SMTP arrives durably in the Maildir and is read back, byte-identical apart
from the prepended Received header, by real IMAP clients (imaplib, mbsync)."""

import base64
import imaplib
import ssl
import subprocess
import textwrap

from mailhost import IMAP, IMAPS, MX, PASSWORDS, strip_first_received, wait_for

SUBJECT_UTF8 = "Grüße aus Zürich – 東京 📬"


def multipart_message() -> bytes:
    attachment = base64.encodebytes(bytes(range(256)) * 8).decode().replace("\n", "\r\n")
    subject = "=?UTF-8?B?" + base64.b64encode(SUBJECT_UTF8.encode()).decode() + "?="
    text = (
        "From: Sender <sender@example.net>\r\n"
        "To: alice+news@example.test, team@example.test\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <main-job-1@example.net>\r\n"
        "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Grüße! Das Dokument ist angehängt.\r\n"
        "--b1\r\n"
        'Content-Type: application/octet-stream; name="data.bin"\r\n'
        'Content-Disposition: attachment; filename="data.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        f"{attachment}"
        "--b1--\r\n"
    )
    return text.encode()


def send_with_swaks(tmp_path, message: bytes, recipients):
    data = tmp_path / "message.eml"
    data.write_bytes(message + b".\r\n")
    result = subprocess.run(
        ["swaks", "--server", f"{MX[0]}:{MX[1]}", "--tls", "--ehlo", "client.example.net",
         "--from", "sender@example.net", "--to", ",".join(recipients),
         "--data", str(data), "--no-data-fixup"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def fetch_with_imaplib(host, account, implicit_tls=True):
    context = ssl.create_default_context(cafile=str(host.ca_file))
    context.check_hostname = False  # the test connects by IP; the chain is still verified
    if implicit_tls:
        client = imaplib.IMAP4_SSL(IMAPS[0], IMAPS[1], ssl_context=context)
    else:
        client = imaplib.IMAP4(IMAP[0], IMAP[1])
        client.starttls(ssl_context=context)
    client.login(account, PASSWORDS[account])
    client.select("INBOX", readonly=True)
    status, data = client.uid("SEARCH", None, "ALL")
    assert status == "OK", data
    bodies = []
    for uid in data[0].split():
        status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
        assert status == "OK", parts
        bodies.append(parts[0][1])
    client.logout()
    return bodies


def fetch_with_mbsync(host, tmp_path, account):
    local = tmp_path / "mbsync-local"
    local.mkdir()
    password_file = tmp_path / "mbsync-password"
    password_file.write_text(PASSWORDS[account])
    config = tmp_path / "mbsyncrc"
    config.write_text(textwrap.dedent(f"""\
        IMAPAccount dev
        Host localhost
        Port {IMAPS[1]}
        User {account}
        PassCmd "cat {password_file}"
        SSLType IMAPS
        CertificateFile {host.ca_file}

        IMAPStore remote
        Account dev

        MaildirStore local
        Path {local}/
        Inbox {local}/INBOX

        Channel inbox
        Far :remote:INBOX
        Near :local:INBOX
        Create Near
        Sync Pull
        SyncState *
        """))
    result = subprocess.run(["mbsync", "-c", str(config), "inbox"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    files = [p for sub in ("new", "cur") for p in (local / "INBOX" / sub).iterdir()]
    # mbsync stores local Maildir files with LF line endings, the Unix
    # convention, and adds its own X-TUID header while syncing. Every line we
    # send ends in CRLF and has no X-TUID, so this restores the fetched bytes.
    fetched = []
    for path in files:
        lines = path.read_bytes().split(b"\n")
        fetched.append(b"\r\n".join(line for line in lines if not line.startswith(b"X-TUID: ")))
    return fetched


def test_swaks_message_reaches_imap_clients_intact(dev_host, tmp_path):
    sent = multipart_message()

    send_with_swaks(tmp_path, sent, ["alice+news@example.test", "team@example.test"])

    alice_files = dev_host.messages("alice@example.test")
    bob_files = dev_host.messages("bob@example.test")
    assert len(alice_files) == 1, "alice is named twice (plus-address and alias) but gets one copy"
    assert len(bob_files) == 1
    assert strip_first_received(alice_files[0]) == sent

    for account in ("alice@example.test", "bob@example.test"):
        fetched = fetch_with_imaplib(dev_host, account)
        assert len(fetched) == 1
        assert strip_first_received(fetched[0]) == sent

    fetched_starttls = fetch_with_imaplib(dev_host, "bob@example.test", implicit_tls=False)
    assert strip_first_received(fetched_starttls[0]) == sent

    fetched = fetch_with_mbsync(dev_host, tmp_path, "alice@example.test")
    assert len(fetched) == 1
    assert strip_first_received(fetched[0]) == sent


def test_received_header_names_host_and_tls(dev_host, tmp_path):
    send_with_swaks(tmp_path, b"Subject: trace\r\n\r\nhello\r\n", ["bob@example.test"])

    stored = wait_for(lambda: dev_host.messages("bob@example.test"), 5, "delivery")[0]
    received = stored.split(b"\r\n\r\n", 1)[0].split(b"\r\nSubject:")[0]

    assert received.startswith(b"Received: from client.example.net")
    assert b"by mail.example.test" in received
    assert b"ESMTPS" in received
