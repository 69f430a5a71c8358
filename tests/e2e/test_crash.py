"""Durability across a crash: `kill -9` of the smtpd child during a stream of
messages loses none that got 250 and stores none twice; the supervisor
brings the daemon back and /status counts the restart."""

import os
import signal
import smtplib
import threading
import time

from mailhost import MX, smtp_greeting, wait_for

MESSAGES = 200
SENDERS = 4


def send_stream(acknowledged, errors, worker):
    for n in range(worker, MESSAGES, SENDERS):
        message = f"Subject: stream {n}\r\nMessage-ID: <stream-{n}@example.net>\r\n\r\nmessage number {n}\r\n"
        try:
            with smtplib.SMTP(*MX, timeout=10) as client:
                client.sendmail("stream@example.net", ["alice@example.test"], message)
            acknowledged.add(n)
        except (smtplib.SMTPException, OSError) as error:
            errors.append((n, repr(error)))


def test_kill_9_of_smtpd_loses_no_acknowledged_message(dev_host):
    old_pid = dev_host.resource("daemon", "smtpd")["observed"]["pid"]
    acknowledged, errors = set(), []
    workers = [threading.Thread(target=send_stream, args=(acknowledged, errors, w)) for w in range(SENDERS)]
    for worker in workers:
        worker.start()

    wait_for(lambda: len(acknowledged) >= MESSAGES // 4, 60, "a quarter of the stream")
    os.kill(old_pid, signal.SIGKILL)
    killed_at = time.monotonic()
    new_pid = wait_for(
        lambda: dev_host.resource("daemon", "smtpd")["observed"]["pid"] not in (None, old_pid)
        and smtp_greeting(MX, timeout=2).startswith(b"220"),
        2, "smtpd to answer again within 2 s of kill -9",
    )
    back_after = time.monotonic() - killed_at
    for worker in workers:
        worker.join()

    print(f"smtpd answered again {back_after:.2f}s after kill -9; {len(errors)} sends failed during the crash")
    assert new_pid
    stored = dev_host.messages("alice@example.test")
    numbers = [int(m.split(b"message number ")[1].split(b"\r\n")[0]) for m in stored]
    for n in acknowledged:
        assert numbers.count(n) == 1, f"message {n} got 250 but is stored {numbers.count(n)} times"
    assert len(acknowledged) + len(errors) == MESSAGES
    daemon = wait_for(lambda: dev_host.resource("daemon", "smtpd")["observed"]["restarts"] >= 1 and
                      dev_host.resource("daemon", "smtpd"), 10, "/status to count the restart")
    assert daemon["observed"]["restarts"] == 1
    assert daemon["observed"]["pid"] != old_pid
