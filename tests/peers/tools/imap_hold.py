"""Hold one IMAP session open across a server-side change, then prove it still works.

Logs in over implicit TLS with imaplib, writes the serial of the certificate
the server presented to `--out` as {"serial": ...}, waits until the file
`--resume` exists, then sends NOOP and SELECT INBOX on the same connection and
writes {"serial", "noop", "select"} to `--out`. Run with /usr/bin/python3.
"""

import argparse
import json
import ssl
import time
from pathlib import Path

import imaplib

# Seconds to wait for the resume file; a bound on a hang only.
RESUME_DEADLINE = 120


def peer_serial(connection):
    """Return the server certificate's serial as upper-case hex (the ssl module decodes verified peers only)."""
    return connection.sock.getpeercert().get("serialNumber", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--port", type=int, default=993)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--resume", required=True)
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca_file)
    connection = imaplib.IMAP4_SSL(args.server, args.port, ssl_context=context)
    connection.login(args.user, Path(args.password_file).read_text())
    serial = peer_serial(connection)
    Path(args.out).write_text(json.dumps({"serial": serial}))

    started = time.monotonic()
    while not Path(args.resume).exists():
        if time.monotonic() - started > RESUME_DEADLINE:
            raise SystemExit(f"{args.resume} never appeared")
        time.sleep(0.1)

    noop, _ = connection.noop()
    select, _ = connection.select("INBOX", readonly=True)
    connection.logout()
    Path(args.out).write_text(json.dumps({"serial": serial, "noop": noop, "select": select}))


if __name__ == "__main__":
    main()
