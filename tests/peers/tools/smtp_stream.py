"""Send a numbered stream of messages over SMTP with STARTTLS, one connection each.

A message that fails for any reason (connection refused or dropped, a 4xx
reply) is retried until it is accepted or the overall deadline passes. After
each 250 reply to DATA, one line "<number> <Message-ID>" is appended to
ACK_FILE and fsynced, so the file lists exactly what the server acknowledged.
Run with /usr/bin/python3 inside the sending host.
"""

import argparse
import os
import smtplib
import ssl
import sys
import time
from email.utils import formatdate

RETRY_PAUSE = 0.2


def build_message(args, number):
    message_id = f"<stream-{args.tag}-{number:04d}@{args.helo}>"
    lines = [
        f"From: <{args.sender}>",
        f"To: <{args.recipient}>",
        f"Subject: stream {args.tag} message {number}",
        f"Date: {formatdate()}",
        f"Message-ID: {message_id}",
        "",
        f"Message {number} of the {args.tag} stream.",
        "",
    ]
    return message_id, "\r\n".join(lines).encode()


def send_once(args, context, data):
    with smtplib.SMTP(args.server, args.port, local_hostname=args.helo, timeout=20) as smtp:
        smtp.starttls(context=context)
        smtp.ehlo(args.helo)
        smtp.sendmail(args.sender, [args.recipient], data)


def record_ack(path, number, message_id):
    with open(path, "a") as ack_file:
        ack_file.write(f"{number} {message_id}\n")
        ack_file.flush()
        os.fsync(ack_file.fileno())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="host name, which must match the certificate")
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--helo", required=True)
    parser.add_argument("--sender", required=True)
    parser.add_argument("--recipient", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--tag", required=True, help="word that makes this stream's Message-IDs unique")
    parser.add_argument("--ack-file", required=True)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between messages")
    parser.add_argument("--deadline", type=float, default=180, help="seconds before giving up")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca_file)
    started = time.monotonic()
    for number in range(1, args.count + 1):
        message_id, data = build_message(args, number)
        while True:
            try:
                send_once(args, context, data)
                break
            except (OSError, smtplib.SMTPException) as error:
                print(f"message {number}: {type(error).__name__}: {error}; retrying", file=sys.stderr, flush=True)
                if time.monotonic() - started > args.deadline:
                    raise SystemExit(f"message {number} not accepted within {args.deadline:.0f} s: {error}")
                time.sleep(RETRY_PAUSE)
        record_ack(args.ack_file, number, message_id)
        time.sleep(args.pause)


if __name__ == "__main__":
    main()
