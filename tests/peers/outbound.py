"""Helpers for the outbound scenarios: the SES password derivation, computed
independently of mailroom, and a way to enqueue a message without submission.
"""

import base64
import hashlib
import hmac
import os
from pathlib import Path

from . import procs

DEFAULT_ENQUEUE = "/var/tmp/mailroom-target/debug/examples/enqueue"
ENQUEUE_BUILD_HINT = "CARGO_TARGET_DIR=/var/tmp/mailroom-target cargo build -p mailroom-queue --example enqueue"


def ses_smtp_password(secret, region):
    """Return the SES SMTP password for an IAM secret access key, as the SES
    documentation's Python example derives it: HMAC-SHA256 over a fixed chain
    keyed with "AWS4" + secret, version byte 4, base64."""
    key = ("AWS4" + secret).encode()
    for part in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + key).decode()


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def enqueue(queue_root, sender, recipients, message):
    """Put `message` (bytes) into the spool at `queue_root` with the queue's
    own enqueue, as smtpd's submission role will; return the queue id."""
    path = Path(os.environ.get("MAILROOM_ENQUEUE_BIN", DEFAULT_ENQUEUE))
    if not os.access(path, os.X_OK):
        raise AssertionError(f"enqueue helper {path} is missing: build it with `{ENQUEUE_BUILD_HINT}`")
    result = procs.run([path, queue_root, sender, *recipients], input=message, text=False)
    return result.stdout.decode().strip()


def maildir_messages(mail_root):
    """Return the bytes of every message in a `new/` folder under `mail_root`."""
    return [path.read_bytes() for path in sorted(Path(mail_root).glob("**/new/*")) if path.is_file()]
