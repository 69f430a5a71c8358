"""Log in over IMAP with Python's imaplib and print INBOX as JSON.

Output: {"uidvalidity": N, "messages": [{"uid": N, "message_id": "...",
"body_base64": "..."}]}, messages in UID order. BODY.PEEK leaves the \\Seen
flag alone. Run with /usr/bin/python3 inside the client host.
"""

import argparse
import base64
import email.parser
import email.policy
import imaplib
import json
import re
import ssl
from pathlib import Path

FETCH_UID = re.compile(rb"UID (\d+)")


def connect(args):
    context = ssl.create_default_context(cafile=args.ca_file)
    if args.security == "imaps":
        return imaplib.IMAP4_SSL(args.server, args.port, ssl_context=context)
    connection = imaplib.IMAP4(args.server, args.port)
    connection.starttls(ssl_context=context)
    return connection


def message_id(raw):
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    return (headers.get("Message-ID") or "").strip()


def dump_inbox(connection):
    status, data = connection.select("INBOX", readonly=True)
    if status != "OK":
        raise SystemExit(f"SELECT INBOX failed: {data}")
    uidvalidity = int(connection.untagged_responses.get("UIDVALIDITY", [b"0"])[-1])
    status, data = connection.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    messages = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        uid = int(FETCH_UID.search(item[0]).group(1))
        raw = item[1]
        messages.append({
            "uid": uid,
            "message_id": message_id(raw),
            "body_base64": base64.b64encode(raw).decode(),
        })
    messages.sort(key=lambda m: m["uid"])
    return {"uidvalidity": uidvalidity, "messages": messages}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="host name, which must match the certificate")
    parser.add_argument("--port", type=int, default=993)
    parser.add_argument("--security", choices=["imaps", "starttls"], default="imaps")
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    args = parser.parse_args()

    connection = connect(args)
    connection.login(args.user, Path(args.password_file).read_text().strip())
    result = dump_inbox(connection)
    connection.logout()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
