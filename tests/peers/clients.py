"""Independent clients and checkers, each run inside a lab host.

A host's resolv.conf points at the lab's Knot, so every name these tools
look up resolves in the test zones and never through the machine's resolver.
"""

import base64
import json
import re
import secrets
from pathlib import Path

from . import procs

# pyspf prints "result: ('pass', 250, 'sender SPF authorized') <mechanism>".
SPF_RESULT = re.compile(r"result: \('(\w+)'")

TOOLS = Path(__file__).parent / "tools"
DEBIAN_PYTHON = "/usr/bin/python3"

# swaks exit statuses, from swaks(1) "EXIT CODES" (Debian swaks 20201014).
SWAKS_EXIT = {
    0: "no errors",
    2: "cannot connect to the server",
    6: "connection closed unexpectedly",
    21: "error reading the greeting",
    22: "error in HELO/EHLO",
    23: "error in MAIL FROM",
    24: "no recipient accepted",
    25: "error reply to DATA",
    26: "message not accepted after DATA",
    28: "error in AUTH (also when AUTH is not offered)",
    29: "error in TLS (STARTTLS or certificate)",
}


def random_password(length=16):
    """Return a random password that swaks accepts.

    swaks reads any argument that starts with "-" as an option, even the value
    of --auth-password, so the password starts with a letter.
    """
    return "p" + secrets.token_urlsafe(length)

def swaks(host, server, port, sender, recipient, data=None, tls=True, ca_file=None, auth=None, extra=()):
    """Run swaks in `host`; return the completed process (status and transcript).

    `auth` is `(mechanism, user, password)`; `data` is a message file with
    CRLF line ends, sent exactly as `smtp_data_file` prepares it.
    """
    argv = ["swaks", "--server", f"{server}:{port}", "--from", sender, "--to", recipient, "--timeout", "20"]
    if tls:
        argv += ["--tls"]
    if ca_file:
        argv += ["--tls-verify", "--tls-ca-path", ca_file]
    if auth:
        mechanism, user, password = auth
        argv += ["--auth", mechanism, "--auth-user", user, "--auth-password", password]
    if data:
        argv += ["--data", f"@{smtp_data_file(data)}", "--no-data-fixup"]
    argv += list(extra)
    return host.run(argv, check=False)



def neomutt(host, folder, url, user, password, sender, recipient, subject, body, ca_file):
    """Send one message with neomutt in batch mode from `host`; return the completed process.

    `url` is neomutt's `smtp_url` without the user, such as
    `smtp://mail.example.test:587/` (STARTTLS is then required) or
    `smtps://mail.example.test:465/`. With standard input not a terminal,
    neomutt sends without opening its screen, so no pty is needed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scheme, rest = url.split("://", 1)
    user_part = user.replace("@", "%40")
    config = folder / "neomuttrc"
    config.write_text(
        f'set from = "{sender}"\n'
        f'set smtp_url = "{scheme}://{user_part}@{rest}"\n'
        f'set smtp_pass = "{password}"\n'
        'set smtp_authenticators = "plain"\n'
        "set ssl_starttls = yes\n"
        "set ssl_force_tls = yes\n"
        f'set ssl_ca_certificates_file = "{ca_file}"\n'
        f'set certificate_file = "{folder / "certificates"}"\n'
        'set hostname = "client.example.net"\n'
        'set record = ""\n'
        f'set folder = "{folder}"\n'
        'set spoolfile = ""\n'
    )
    body_file = folder / "body.txt"
    body_file.write_text(body)
    argv = ["env", f"HOME={folder}", "neomutt", "-n", "-F", config, "-s", subject, "--", recipient]
    with open(body_file) as stdin:
        return host.run(argv, check=False, timeout=60, stdin=stdin)

def smtp_data_file(message_file):
    """Write the DATA section of a CRLF message file beside it and return its path.

    swaks `--no-data-fixup` sends a file as it is, and without that option
    swaks appends CRLF "." after the last CRLF, which adds an empty line to
    the body. So the lab dot-stuffs the message (RFC 5321 section 4.5.2) and
    appends the end-of-data line itself.
    """
    message = Path(message_file).read_bytes()
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    stuffed = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in message.split(b"\r\n"))
    path = Path(f"{message_file}.smtp")
    path.write_bytes(stuffed + b".\r\n")
    return path


def mbsync(host, folder, server, user, password, ca_file, port=993):
    """Pull INBOX of `user` with mbsync (isync) over IMAPS into `folder`; return the Maildir path.

    mbsync checks the certificate against `server` as a DNS name; it ignores IP SANs.
    """
    folder = Path(folder)
    maildir = folder / "mail"
    (maildir / "INBOX").mkdir(parents=True, exist_ok=True)
    password_file = _secret_file(folder / "password", password)
    config = folder / "mbsyncrc"
    config.write_text(f"""IMAPAccount lab
Host {server}
Port {port}
User {user}
PassCmd "cat {password_file}"
SSLType IMAPS
CertificateFile {ca_file}

IMAPStore lab-remote
Account lab

MaildirStore lab-local
Path {maildir}/
Inbox {maildir}/INBOX

Channel lab
Far :lab-remote:
Near :lab-local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
""")
    host.run(["env", f"HOME={folder}", "mbsync", "-c", config, "lab"])
    return maildir / "INBOX"


def offlineimap(host, folder, server, user, password, ca_file, port=993):
    """Pull INBOX of `user` with offlineimap3 over IMAPS into `folder`; return the Maildir path."""
    folder = Path(folder)
    maildir = folder / "mail"
    maildir.mkdir(parents=True, exist_ok=True)
    config = folder / "offlineimaprc"
    config.write_text(f"""[general]
accounts = lab
metadata = {folder}/metadata
ui = basic

[Account lab]
localrepository = lab-local
remoterepository = lab-remote

[Repository lab-local]
type = Maildir
localfolders = {maildir}

[Repository lab-remote]
type = IMAP
remotehost = {server}
remoteport = {port}
ssl = yes
sslcacertfile = {ca_file}
remoteuser = {user}
remotepass = {password}
readonly = True
folderfilter = lambda name: name == 'INBOX'
""")
    config.chmod(0o600)
    host.run(["env", f"HOME={folder}", "offlineimap", "-c", config, "-o", "-u", "basic"])
    return maildir / "INBOX"


def maildir_messages(maildir):
    """Return the bytes of every message in a Maildir's new/ and cur/, sorted by file name."""
    files = sorted([*Path(maildir, "new").glob("*"), *Path(maildir, "cur").glob("*")], key=lambda p: p.name)
    return [path.read_bytes() for path in files]


def imap_dump(host, folder, server, user, password, ca_file, port=993, security="imaps"):
    """Fetch INBOX with imaplib; return {"uidvalidity", "messages": [{"uid", "message_id", "body"}]}."""
    password_file = _secret_file(Path(folder) / "imap-password", password)
    argv = [
        DEBIAN_PYTHON, TOOLS / "imap_dump.py",
        "--server", server, "--port", port, "--security", security,
        "--ca-file", ca_file, "--user", user, "--password-file", password_file,
    ]
    dump = json.loads(host.run(argv).stdout)
    for message in dump["messages"]:
        message["body"] = base64.b64decode(message.pop("body_base64"))
    return dump


def dkim_verify(host, message_file):
    """Run dkimpy's `dkimverify` on a message file; return the completed process."""
    return host.run(["sh", "-c", 'dkimverify < "$1"', "dkimverify", message_file], check=False)


def spf_check(host, ip, sender, helo):
    """Return pyspf's result (`pass`, `fail`, `softfail`, ...) for client `ip`, MAIL FROM `sender` and `helo`."""
    result = host.run([DEBIAN_PYTHON, "-m", "spf", ip, sender, helo], check=False)
    match = SPF_RESULT.search(result.stdout)
    if not match:
        raise AssertionError(f"pyspf printed no result line:\n{result.stdout}\n{result.stderr}")
    return match.group(1)


def acme_issue(host, folder, directory_url, ca_file, names):
    """Order a certificate for `names` from an ACME server, answering HTTP-01 on port 80 of `host`."""
    argv = [
        DEBIAN_PYTHON, TOOLS / "acme_issue.py",
        "--directory", directory_url, "--ca-file", ca_file,
        "--listen", host.address, "--out", folder, *names,
    ]
    return host.run(argv, timeout=120)


def testssl(host, folder, target, ca_file, starttls=None):
    """Run a quick testssl.sh scan of `target` (HOST:PORT); return its JSON findings by id.

    `-p` lists protocols, `-s` the cipher categories (NULL, anonymous,
    export) and `-S` the certificate with its chain of trust. The exit status
    of testssl is no verdict, so only the findings are returned.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "testssl.json"
    out.unlink(missing_ok=True)
    argv = [
        "testssl", "--quiet", "--nodns", "none", "--warnings", "batch", "--color", "0",
        "--add-ca", ca_file, "-p", "-s", "-S", "--jsonfile", out,
    ]
    if starttls:
        argv += ["--starttls", starttls]
    result = host.run([*argv, target], check=False, timeout=300)
    if not out.exists():
        raise AssertionError(f"testssl wrote no {out}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    findings = {}
    for finding in json.loads(out.read_text()):
        findings.setdefault(finding["id"], finding)
    return findings


def start_smtp_stream(host, folder, server, ca_file, helo, sender, recipient, count, tag):
    """Start `tools/smtp_stream.py` in `host`; return the process and its acknowledgement file."""
    ack_file = Path(folder) / f"{tag}.acked"
    argv = [
        DEBIAN_PYTHON, TOOLS / "smtp_stream.py",
        "--server", server, "--ca-file", ca_file, "--helo", helo,
        "--sender", sender, "--recipient", recipient,
        "--count", count, "--tag", tag, "--ack-file", ack_file,
    ]
    process = host.start("smtp stream", argv, Path(folder) / f"{tag}.log")
    return process, ack_file


def read_acks(ack_file):
    """Return the Message-IDs listed in an acknowledgement file, in order."""
    if not Path(ack_file).exists():
        return []
    return [line.split(" ", 1)[1] for line in Path(ack_file).read_text().splitlines() if " " in line]


def _secret_file(path, secret):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret)
    path.chmod(0o600)
    return path
