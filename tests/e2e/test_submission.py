"""Message submission on ports 587 (STARTTLS) and 465 (implicit TLS) with
swaks as the client: AUTH only over TLS, the sender policy, DKIM signatures
that dkimpy verifies, and the lockout after repeated wrong passwords."""

import json
import re
import subprocess
import time

import dkim
import pytest

from mailhost import PASSWORDS, MailHost, smtp_greeting, wait_for

SUBMISSION = ("127.0.0.1", 2587)
SUBMISSIONS = ("127.0.0.1", 2465)


def swaks(host, server, account, password, *extra, sender=None, to="bob@example.test", data=None, source=None):
    """Runs swaks with AUTH PLAIN; `extra` selects STARTTLS or implicit TLS."""
    command = [
        "swaks", "--server", f"{server[0]}:{server[1]}", "--ehlo", "client.example",
        "--from", sender or account, "--to", to,
        "--auth", "PLAIN", "--auth-user", account, "--auth-password", password,
        *extra,
    ]
    if data is not None:
        command += ["--data", str(data), "--no-data-fixup"]
    if source is not None:
        command += ["--local-interface", source]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def error_replies(stdout):
    """Returns the error replies swaks shows, `<**` in clear text and `<~*` over TLS."""
    return [match.group(1) for match in re.finditer(r"^<(?:\*\*|~\*) (.*)$", stdout, re.MULTILINE)]


def write_message(tmp_path, sender, subject):
    path = tmp_path / f"{subject}.eml"
    path.write_bytes(
        f"From: {sender}\r\nTo: bob@example.test\r\nSubject: {subject}\r\n\r\nHello Bob.\r\n.\r\n".encode()
    )
    return path


def dkim_record(host):
    """Returns the name and content of the TXT record that /status shows for the key."""
    resource = host.resource("dkim-key", "example.test")
    return resource["observed"]["dns_name"], resource["observed"]["dns_txt"]


def dkimpy_verifies(message, name, record):
    def dns(query, timeout=5):
        return record.encode() if query == (name + ".").encode() else None

    return dkim.verify(message, dnsfunc=dns)


def test_auth_not_offered_before_starttls(dev_host):
    result = subprocess.run(
        ["swaks", "--server", f"{SUBMISSION[0]}:{SUBMISSION[1]}", "--ehlo", "client.example",
         "--quit-after", "EHLO"],
        capture_output=True, text=True, timeout=60,
    )
    ehlo_lines = [line for line in result.stdout.splitlines() if line.startswith("<- ")]
    assert any("STARTTLS" in line for line in ehlo_lines), result.stdout
    assert not any("AUTH" in line for line in ehlo_lines), result.stdout


def test_starttls_submission_is_signed_and_verified(dev_host, tmp_path):
    data = write_message(tmp_path, "Alice <alice@example.test>", "starttls")

    result = swaks(dev_host, SUBMISSION, "alice@example.test", PASSWORDS["alice@example.test"], "--tls", data=data)

    assert result.returncode == 0, result.stdout + result.stderr
    [message] = wait_for(lambda: dev_host.messages("bob@example.test"), 10, "delivery to bob")
    assert message.count(b"DKIM-Signature:") == 1
    assert dkimpy_verifies(message, *dkim_record(dev_host))


def test_implicit_tls_submission(dev_host, tmp_path):
    data = write_message(tmp_path, "alice+lists@example.test", "implicit")

    result = swaks(
        dev_host, SUBMISSIONS, "alice@example.test", PASSWORDS["alice@example.test"], "--tls-on-connect",
        sender="alice+lists@example.test", data=data,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    [message] = wait_for(lambda: dev_host.messages("bob@example.test"), 10, "delivery to bob")
    assert dkimpy_verifies(message, *dkim_record(dev_host))


def test_wrong_password_gets_535(dev_host):
    result = swaks(dev_host, SUBMISSION, "alice@example.test", "wrong", "--tls", "--quit-after", "AUTH")

    assert error_replies(result.stdout)[0].startswith("535 5.7.8 "), result.stdout


def test_from_of_another_user_gets_553(dev_host, tmp_path):
    data = write_message(tmp_path, "bob@example.test", "forged")

    result = swaks(dev_host, SUBMISSION, "alice@example.test", PASSWORDS["alice@example.test"], "--tls", data=data)

    assert error_replies(result.stdout)[0].startswith("553 5.7.1 <bob@example.test>"), result.stdout
    assert dev_host.messages("bob@example.test") == []


def test_envelope_sender_of_another_domain_gets_553(dev_host):
    result = swaks(
        dev_host, SUBMISSION, "alice@example.test", PASSWORDS["alice@example.test"], "--tls",
        "--quit-after", "MAIL", sender="alice@example.net",
    )

    assert error_replies(result.stdout)[0].startswith("553 5.7.1 <alice@example.net>"), result.stdout


@pytest.fixture
def lockout_host(tmp_path, request):
    """The dev host with a lockout after 5 failures, so the test runs in seconds."""
    host = MailHost(tmp_path)
    spec = json.loads(host.spec_path.read_text())
    spec["submission"] = {"auth_failure_burst": 5, "auth_failure_delay_seconds": 1}
    host.write_spec(spec)
    try:
        host.start()
        yield host
    finally:
        host.stop()


def test_repeated_wrong_passwords_lock_out_only_that_address(lockout_host, tmp_path):
    replies, seconds = [], []
    for _ in range(20):
        started = time.monotonic()
        result = swaks(lockout_host, SUBMISSION, "alice@example.test", "wrong", "--tls", "--quit-after", "AUTH")
        seconds.append(time.monotonic() - started)
        errors = error_replies(result.stdout)
        replies.append(errors[0][:3] if errors else result.stdout)

    assert replies[:5] == ["535"] * 5, replies
    assert replies[5:] == ["421"] * 15, replies
    # The n-th failure's 535 is held back n times the 1 s base delay: a
    # minimum the server enforces, so this lower bound cannot be flaky.
    for attempt in range(5):
        assert seconds[attempt] >= attempt + 1, (attempt, seconds)
    assert smtp_greeting(SUBMISSION).startswith(b"421 4.7.0 ")

    data = write_message(tmp_path, "alice@example.test", "other-address")
    result = swaks(
        lockout_host, SUBMISSION, "alice@example.test", PASSWORDS["alice@example.test"], "--tls",
        data=data, source="127.0.0.2",
    )
    assert result.returncode == 0, result.stdout + result.stderr
