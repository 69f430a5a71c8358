"""No open relay: from `internet`, mail for a foreign domain is rejected at
RCPT on port 25, and the submission port 587 neither offers AUTH before
STARTTLS nor accepts mail without it."""

import pytest

from peers.lab import ALICE
from peers import clients, messages

SENDER = "sender@example.net"
FOREIGN = "someone@example.net"


def client_lines(transcript):
    """Return what swaks sent, without its direction marks (`->` plain, `~>` over TLS)."""
    stripped = (line.strip() for line in transcript.splitlines())
    return [line[2:].strip() for line in stripped if line[:2] in ("->", "~>")]


def server_lines(transcript):
    """Return what the server sent (`<-`, `<~`) and swaks' error notes (`<**`, `<~*`)."""
    stripped = (line.strip() for line in transcript.splitlines())
    return [line.lstrip("<-~*").strip() for line in stripped if line[:2] in ("<-", "<~", "<*")]


def reply_to(transcript, command):
    """Return the server's first reply after the client line that starts with `command`, or None."""
    lines = [line.strip() for line in transcript.splitlines()]
    for index, line in enumerate(lines):
        if line[:2] in ("->", "~>") and line[2:].strip().upper().startswith(command):
            replies = server_lines("\n".join(lines[index + 1:]))
            return replies[0] if replies else None
    return None


def ehlo_keywords(transcript):
    """Return the EHLO keywords of every EHLO reply in the session."""
    replies = [line for line in server_lines(transcript) if line[:4] in ("250-", "250 ")]
    return {line[4:].split(" ")[0].upper() for line in replies}


def send(lab, test_folder, recipient, tls, auth=None):
    message, _ = messages.write_message(test_folder, SENDER, recipient, subject="relay attempt")
    return clients.swaks(
        lab["internet"], "mail.example.test", 25, SENDER, recipient,
        data=message, tls=tls, ca_file=lab.ca.ca_file if tls else None, auth=auth,
    )


@pytest.mark.parametrize("tls", [True, False], ids=["starttls", "plaintext"])
def test_foreign_recipient_rejected_at_rcpt(lab, mailhost, test_folder, tls):
    result = send(lab, test_folder, FOREIGN, tls)

    assert result.returncode == 24, clients.SWAKS_EXIT.get(result.returncode, result.stdout)
    assert (reply_to(result.stdout, "RCPT TO") or "").startswith("550 5.7.1"), result.stdout


@pytest.mark.parametrize("tls", [True, False], ids=["starttls", "plaintext"])
def test_auth_attempt_fails_as_not_offered(lab, mailhost, test_folder, alice_password, tls):
    result = send(lab, test_folder, FOREIGN, tls, auth=("PLAIN", ALICE, alice_password))

    assert result.returncode == 28, clients.SWAKS_EXIT.get(result.returncode, result.stdout)
    assert "AUTH" not in ehlo_keywords(result.stdout), result.stdout
    assert not [line for line in client_lines(result.stdout) if line.upper().startswith("AUTH")]


def test_local_recipient_accepted_on_same_port(lab, mailhost, test_folder):
    result = send(lab, test_folder, ALICE, tls=True)

    assert result.returncode == 0, result.stdout


def submit(lab, test_folder, recipient, tls, auth=None):
    message, _ = messages.write_message(test_folder, ALICE, recipient, subject="submission relay attempt")
    return clients.swaks(
        lab["internet"], "mail.example.test", 587, ALICE, recipient,
        data=message, tls=tls, ca_file=lab.ca.ca_file if tls else None, auth=auth,
    )


def test_submission_offers_no_auth_before_starttls(lab, submission_mailhost, test_folder, alice_password):
    result = submit(lab, test_folder, FOREIGN, tls=False, auth=("PLAIN", ALICE, alice_password))

    assert result.returncode == 28, clients.SWAKS_EXIT.get(result.returncode, result.stdout)
    assert "AUTH" not in ehlo_keywords(result.stdout), result.stdout
    assert not [line for line in client_lines(result.stdout) if line.upper().startswith("AUTH")]


@pytest.mark.parametrize("tls", [True, False], ids=["starttls", "plaintext"])
def test_submission_without_auth_is_refused(lab, submission_mailhost, test_folder, tls):
    result = submit(lab, test_folder, FOREIGN, tls)

    assert result.returncode == 23, clients.SWAKS_EXIT.get(result.returncode, result.stdout)
    assert (reply_to(result.stdout, "MAIL FROM") or "").startswith("530 5.7.0"), result.stdout
