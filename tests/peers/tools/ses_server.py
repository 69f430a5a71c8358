"""An SMTP server standing in for Amazon SES, built on aiosmtpd.

It requires STARTTLS, then AUTH PLAIN or LOGIN for one user, and stores every
accepted message in FOLDER as NNNNNN.eml with its envelope in NNNNNN.json.
Two rules of the real SES SMTP interface are enforced:

- a message with more than one DKIM-Signature header field is rejected with
  `554 Transaction failed: Duplicate header 'DKIM-Signature'`;
- the Message-ID header field is replaced by one SES assigns, and the reply
  to DATA names it (`250 Ok <id>`).

For tests of the client's error handling, `--control-file` names a JSON file
read at every DATA: `{"data_reply": "554 ..."}` answers DATA with that reply
and stores nothing; `{"stall_seconds": N}` waits N seconds before replying.
The password file is read at every AUTH, so a test can change the password
without a restart; each stored envelope records the SHA-256 of the password
the client used.

Run with /usr/bin/python3 (Debian's python3-aiosmtpd). SIGTERM stops it.
"""

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import re
import secrets
import signal
import ssl
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DUPLICATE_DKIM_REPLY = "554 Transaction failed: Duplicate header 'DKIM-Signature'"
HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def split_message(data):
    """Split raw message bytes into (header lines, separator plus body)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = data.find(separator)
        if index >= 0:
            return data[:index].split(b"\n"), data[index:]
    return data.split(b"\n"), b""


def header_fields(lines):
    """Group header lines into fields, each a list of its physical lines (continuations folded in)."""
    fields = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    return fields


def field_name(field):
    match = HEADER_NAME.match(field[0])
    return match.group(1).decode("ascii").lower() if match else ""


def count_fields(data, name):
    lines, _ = split_message(data)
    return sum(1 for field in header_fields(lines) if field_name(field) == name)


def replace_message_id(data, message_id):
    """Return `data` with every Message-ID field removed and `message_id` added first."""
    lines, rest = split_message(data)
    newline = b"\r\n" if data.find(b"\r\n") >= 0 else b"\n"
    kept = [field for field in header_fields(lines) if field_name(field) != "message-id"]
    new_field = b"Message-ID: " + message_id.encode("ascii") + (b"\r" if newline == b"\r\n" else b"")
    out = [new_field] + [line for field in kept for line in field]
    return b"\n".join(out) + rest


def read_control(control_file):
    """Return the test's instructions for the next DATA, or {} when there are none."""
    if control_file is None:
        return {}
    try:
        return json.loads(Path(control_file).read_text())
    except FileNotFoundError:
        return {}


class SesHandler:
    def __init__(self, folder, control_file=None):
        self.folder = Path(folder)
        self.control_file = control_file
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        control = read_control(self.control_file)
        if control.get("stall_seconds"):
            await asyncio.sleep(control["stall_seconds"])
        if control.get("data_reply"):
            return control["data_reply"]
        data = envelope.original_content or envelope.content
        if count_fields(data, "dkim-signature") > 1:
            return DUPLICATE_DKIM_REPLY
        ses_id = f"{secrets.token_hex(8)}-{secrets.token_hex(4)}-000000"
        message_id = f"<{ses_id}@email.amazonses.com>"
        stored = replace_message_id(data, message_id)
        with self.lock:
            number = next(self.counter)
        self.store(number, stored, envelope, session, message_id)
        return f"250 Ok {ses_id}"

    def store(self, number, data, envelope, session, message_id):
        login = session.auth_data.login.decode() if session.auth_data else None
        password = session.auth_data.password if session.auth_data else None
        envelope_info = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_login": login,
            "auth_password_sha256": hashlib.sha256(password).hexdigest() if password else None,
            "peer": list(session.peer),
            "message_id": message_id,
        }
        base = self.folder / f"{number:06d}"
        # The envelope goes first, so a reader that finds the .eml also finds its .json.
        for suffix, content in ((".json", json.dumps(envelope_info).encode()), (".eml", data)):
            temporary = base.with_suffix(suffix + ".tmp")
            temporary.write_bytes(content)
            os.replace(temporary, base.with_suffix(suffix))


def make_authenticator(user, password_file):
    def authenticate(server, session, envelope, mechanism, auth_data):
        password = Path(password_file).read_text().strip()
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="IP address to listen on")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--hostname", required=True, help="name in the greeting and EHLO reply")
    parser.add_argument("--cert", required=True, help="PEM certificate for STARTTLS")
    parser.add_argument("--key", required=True, help="PEM private key for STARTTLS")
    parser.add_argument("--user", required=True, help="the one SMTP AUTH user name")
    parser.add_argument("--password-file", required=True, help="file holding that user's password")
    parser.add_argument("--folder", required=True, help="folder that receives accepted messages")
    parser.add_argument("--control-file", help="JSON file with test instructions, read at every DATA")
    args = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    Path(args.folder).mkdir(parents=True, exist_ok=True)

    # The controller's thread inherits this mask, so SIGTERM reaches only sigwait below.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller = Controller(
        SesHandler(args.folder, args.control_file),
        hostname=args.address,
        port=args.port,
        server_hostname=args.hostname,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=make_authenticator(args.user, args.password_file),
        decode_data=False,
    )
    controller.start()
    print(f"ses stand-in listening on {args.address}:{args.port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    print("ses stand-in stopped", flush=True)


if __name__ == "__main__":
    main()
