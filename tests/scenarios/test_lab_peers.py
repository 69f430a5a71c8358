"""The lab's peers, proven on their own before any scenario relies on them."""

import json
import secrets

from peers import clients, messages, procs

SENDER = "sender@example.net"
FOREIGN = "someone@example.org"


def write_message(folder, recipient, extra_headers=""):
    return messages.write_message(folder, SENDER, recipient, extra_headers=extra_headers)


def test_knot_serves_mx_of_example_test(lab):
    answer = lab.knot.query("example.test", "MX", host=lab["client"])

    assert answer == ["10 mail.example.test."]


def test_knot_serves_address_of_mx_host(lab):
    answer = lab.knot.query("mail.example.test", "A", host=lab["client"])

    assert answer == [lab["mailhost"].address]


def test_hosts_resolve_through_knot(lab):
    result = lab["internet"].run(["getent", "hosts", "mail.example.test"], check=False)

    assert result.stdout.split()[:1] == [lab["mailhost"].address]


def test_knot_applies_tsig_signed_update(lab):
    value = secrets.token_hex(6)

    lab.knot.update("example.net", [f'add signed.example.net. 60 TXT "{value}"'])

    assert lab.knot.query("signed.example.net", "TXT") == [f'"{value}"']


def test_knot_rejects_unsigned_update(lab):
    script = f"server {lab.knot.address} 53\nzone example.net.\nadd unsigned.example.net. 60 TXT \"x\"\nsend\n"

    result = lab["dns"].run(["knsupdate"], input=script, check=False)

    assert "NOTAUTH" in result.stdout + result.stderr
    assert lab.knot.query("unsigned.example.net", "TXT") == []


def test_knot_transfers_zone_with_tsig(lab):
    transfer = lab.knot.axfr("example.test")

    assert "mail.example.test." in transfer


def test_knot_refuses_transfer_without_tsig(lab):
    transfer = lab.knot.axfr("example.test", key=False)

    assert "mail.example.test." not in transfer


def test_pebble_issues_certificate_through_http01(lab, test_folder):
    out = test_folder / "acme"

    clients.acme_issue(lab["client"], out, lab.pebble.directory_url, lab.pebble.ca_file, ["client.example.test"])

    served = json.loads((out / "served.json").read_text())
    assert served, "pebble never fetched the HTTP-01 challenge from the responder"
    verify = procs.run(
        [
            "openssl", "verify", "-CAfile", lab.pebble.root_file,
            "-untrusted", out / "fullchain.pem", out / "fullchain.pem",
        ],
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_ses_accepts_mail_after_starttls_and_auth(lab, test_folder):
    message, original_id = write_message(test_folder, FOREIGN)
    before = len(lab.ses.messages())

    result = clients.swaks(
        lab["internet"], "email-smtp.example.net", 587, SENDER, FOREIGN,
        data=message, ca_file=lab.ca.ca_file, auth=("PLAIN", lab.ses.user, lab.ses.password),
    )

    assert result.returncode == 0, result.stdout
    stored = lab.ses.messages()[before:]
    assert len(stored) == 1
    envelope, body = stored[0]
    assert envelope["rcpt_tos"] == [FOREIGN]
    assert envelope["auth_login"] == lab.ses.user
    assert original_id.encode() not in body
    assert f"Message-ID: {envelope['message_id']}".encode() in body


def test_ses_accepts_auth_login(lab, test_folder):
    message, _ = write_message(test_folder, FOREIGN)

    result = clients.swaks(
        lab["internet"], "email-smtp.example.net", 587, SENDER, FOREIGN,
        data=message, ca_file=lab.ca.ca_file, auth=("LOGIN", lab.ses.user, lab.ses.password),
    )

    assert result.returncode == 0, result.stdout


def test_ses_rejects_wrong_password(lab, test_folder):
    message, _ = write_message(test_folder, FOREIGN)

    result = clients.swaks(
        lab["internet"], "email-smtp.example.net", 587, SENDER, FOREIGN,
        data=message, ca_file=lab.ca.ca_file, auth=("PLAIN", lab.ses.user, "wrong-password"),
    )

    assert result.returncode == 28, clients.SWAKS_EXIT.get(result.returncode, result.stdout)


def test_ses_offers_no_auth_before_starttls(lab, test_folder):
    message, _ = write_message(test_folder, FOREIGN)

    result = clients.swaks(
        lab["internet"], "email-smtp.example.net", 587, SENDER, FOREIGN,
        data=message, tls=False, auth=("PLAIN", lab.ses.user, lab.ses.password),
    )

    assert result.returncode == 28, clients.SWAKS_EXIT.get(result.returncode, result.stdout)


def test_ses_rejects_duplicate_dkim_signature(lab, test_folder):
    signatures = "DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=a; b=x\r\n" * 2
    message, _ = write_message(test_folder, FOREIGN, extra_headers=signatures)
    before = len(lab.ses.messages())

    result = clients.swaks(
        lab["internet"], "email-smtp.example.net", 587, SENDER, FOREIGN,
        data=message, ca_file=lab.ca.ca_file, auth=("PLAIN", lab.ses.user, lab.ses.password),
    )

    assert result.returncode == 26, clients.SWAKS_EXIT.get(result.returncode, result.stdout)
    assert "554 Transaction failed: Duplicate header 'DKIM-Signature'" in result.stdout
    assert len(lab.ses.messages()) == before


def test_postfix_delivers_to_mx_found_in_knot(lab, test_folder):
    sink_folder = test_folder / "sink"
    sink_folder.mkdir()
    procs.run(["chown", "postfix", sink_folder])
    remote = lab["remote"]
    sink = remote.start(
        "smtp-sink",
        ["smtp-sink", "-u", "postfix", "-d", f"{sink_folder}/%H%M%S.", f"{remote.address}:25", "50"],
        test_folder / "smtp-sink.log",
    )
    try:
        sink.wait_ready(lambda: remote.listening(25, remote.address), "listening on port 25")
        recipient = f"sink-{secrets.token_hex(4)}@example.net"
        message, message_id = write_message(test_folder, recipient)

        queue_id = lab.postfix.submit(message, SENDER, recipient)
        lab.postfix.wait_delivered(queue_id)

        dumps = [path.read_bytes() for path in sink_folder.iterdir()]
        assert any(message_id.encode() in dump for dump in dumps)
        assert any(f"relay=mx.example.net[{remote.address}]:25" in line for line in lab.postfix.log_lines(queue_id))
    finally:
        sink.stop()


def test_dkimpy_verifies_signature_published_in_knot(lab, test_folder):
    lab["client"].run(["dknewkey", "--ktype", "rsa", "lab"], cwd=test_folder)
    record = (test_folder / "lab.dns").read_text().strip()
    # A TXT character-string is at most 255 bytes long (RFC 1035), so the key is split.
    strings = " ".join(f'"{record[i:i + 250]}"' for i in range(0, len(record), 250))
    lab.knot.update("example.net", [f"add lab._domainkey.example.net. 60 TXT {strings}"])
    message, _ = write_message(test_folder, FOREIGN)
    signed = test_folder / "signed.eml"
    with open(message, "rb") as unsigned:
        signature = procs.run(
            ["dkimsign", "lab", "example.net", test_folder / "lab.key"], stdin=unsigned, text=False
        ).stdout
    signed.write_bytes(signature)

    result = clients.dkim_verify(lab["client"], signed)

    assert result.returncode == 0, result.stdout + result.stderr


def test_pyspf_passes_listed_address(lab):
    verdict = clients.spf_check(lab["client"], lab["internet"].address, SENDER, "relay.example.net")

    assert verdict == "pass"


def test_pyspf_fails_unlisted_address(lab):
    verdict = clients.spf_check(lab["client"], lab["client"].address, SENDER, "relay.example.net")

    assert verdict == "fail"


def test_testssl_reads_posture_of_ses_stand_in(lab, test_folder):
    target = f"{lab['remote'].address}:587"

    findings = clients.testssl(lab["client"], test_folder, target, lab.ca.ca_file, starttls="smtp")

    assert findings["SSLv3"]["finding"] == "not offered"
    assert findings["TLS1"]["finding"] == "not offered"
    assert findings["TLS1_2"]["finding"] == "offered"
    assert findings["cert_chain_of_trust"]["severity"] == "OK", findings["cert_chain_of_trust"]
