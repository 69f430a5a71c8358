"""SMTP smuggling: only CRLF.CRLF ends DATA, so a body holding a bare-LF or
bare-CR "end of data" and a second transaction is stored as one message."""

import socket

from mailhost import MX, wait_for

PROBE = (
    b"Subject: smuggling probe\r\n"
    b"\r\n"
    b"first part\r\n"
    b"\n.\n"
    b"MAIL FROM:<evil@example.net>\r\n"
    b"RCPT TO:<bob@example.test>\r\n"
    b"DATA\r\n"
    b"Subject: smuggled one\r\n"
    b"\r\n"
    b"lf-dot-lf\r\n"
    b"\r.\r"
    b"MAIL FROM:<evil@example.net>\r\n"
    b"smuggled two after cr-dot-cr\r\n"
    b"\n.\r\n"
    b"MAIL FROM:<evil@example.net>\r\n"
    b"smuggled three after lf-dot-crlf\r\n"
)


def smtp_session(commands):
    """Sends each command after reading the previous reply; returns all replies."""
    replies = []
    with socket.create_connection(MX, timeout=10) as connection:
        reader = connection.makefile("rb")

        def read_reply():
            lines = []
            while True:
                line = reader.readline()
                lines.append(line)
                if len(line) < 4 or line[3:4] != b"-":
                    return b"".join(lines)

        replies.append(read_reply())
        for command in commands:
            connection.sendall(command)
            replies.append(read_reply())
    return replies


def test_bare_line_endings_never_end_data(dev_host):
    replies = smtp_session([
        b"EHLO probe.example.net\r\n",
        b"MAIL FROM:<probe@example.net>\r\n",
        b"RCPT TO:<alice@example.test>\r\n",
        b"DATA\r\n",
        PROBE + b".\r\n",
        b"QUIT\r\n",
    ])

    assert replies[4].startswith(b"354"), replies
    assert replies[5].startswith(b"250"), replies
    assert replies[6].startswith(b"221"), replies
    alice = wait_for(lambda: dev_host.messages("alice@example.test"), 5, "delivery")
    assert len(alice) == 1
    assert alice[0].endswith(PROBE)
    assert dev_host.messages("bob@example.test") == []
