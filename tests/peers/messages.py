"""Test messages, and the comparison of a delivered message with the one sent."""

import re
import secrets
from pathlib import Path

# Header fields a relay or the final delivery may prepend (RFC 5321 section
# 4.4 trace fields, and the ones RFC 7001/8601, RFC 7208 and RFC 8617 add at
# delivery), plus the spam verdict mailroom writes.
TRACE_FIELDS = {
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",  # Postfix writes it beside Delivered-To
    "authentication-results",
    "received-spf",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "x-spam-status",
    "x-spam-score",
    "x-spam-flag",
}

FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def write_message(folder, sender, recipient, subject="lab message", extra_headers=""):
    """Write a CRLF message to a new file in `folder`; return (path, Message-ID).

    Its lines never start with "." and it has every field Postfix would
    otherwise add, so relays pass it on unchanged apart from trace fields.
    """
    message_id = f"<{secrets.token_hex(10)}@{sender.split('@')[1]}>"
    text = (
        f"From: <{sender}>\r\n"
        f"To: <{recipient}>\r\n"
        f"Subject: {subject}\r\n"
        "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        f"{extra_headers}"
        "\r\n"
        "First body line.\r\n"
        "Grüße: a line with 8-bit UTF-8.\r\n"
        "\r\n"
        f"Token {secrets.token_hex(16)}.\r\n"
    )
    path = Path(folder) / f"{secrets.token_hex(6)}.eml"
    path.write_bytes(text.encode())
    return path, message_id


def prepended_fields(original, delivered):
    """Return the names of the header fields `delivered` has before `original`.

    Returns None when `delivered` does not end with `original` byte for byte.
    Both sides are compared with LF line ends, because a Maildir client may
    store LF where IMAP sent CRLF.
    """
    original = original.replace(b"\r\n", b"\n")
    delivered = delivered.replace(b"\r\n", b"\n")
    if not delivered.endswith(original):
        return None
    prefix = delivered[: len(delivered) - len(original)]
    names = []
    for line in prefix.split(b"\n"):
        if not line or line[:1] in (b" ", b"\t"):
            continue
        match = FIELD_NAME.match(line)
        names.append(match.group(1).decode().lower() if match else line.decode(errors="replace"))
    return names


def strip_mbsync_tuid(raw):
    """Remove the `X-TUID` field that mbsync (isync) adds to each message it copies to find it again."""
    return re.sub(rb"(?m)^X-TUID: [^\r\n]*\r?\n", b"", raw, count=1)


def message_id_of(raw):
    """Return the Message-ID field value of raw message bytes, or None."""
    match = re.search(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", raw, re.IGNORECASE | re.MULTILINE)
    return match.group(1).decode() if match else None
