"""ACME issuance through real HTTP-01 validation: pebble fetches the token from the mailhost's port 80,
finding the mailhost through the lab's Knot."""

import json

import pytest

from peers import acme_mailhost, mailroom, procs
from peers.acme_mailhost import AcmeMailroom


@pytest.fixture
def acme_mailhost_server(lab, test_folder, alice_password):
    spec = acme_mailhost.acme_spec(lab, test_folder / "mailroom", alice_password)
    server = AcmeMailroom(lab["mailhost"], test_folder / "mailroom", spec)
    yield server
    server.stop()


def test_first_start_issues_certificate_through_http01(lab, acme_mailhost_server):
    server = acme_mailhost_server.start_issued()
    address = lab["mailhost"].address

    smtp_verified, smtp_serial = acme_mailhost.served_chain(lab["client"], address, 25, lab.pebble.root_file, "smtp")
    imaps_verified, imaps_serial = acme_mailhost.served_chain(lab["client"], address, 993, lab.pebble.root_file)
    certificate = server.certificate()

    assert smtp_verified, "STARTTLS on 25 presented no chain that verifies against pebble's root"
    assert imaps_verified, "implicit TLS on 993 presented no chain that verifies against pebble's root"
    assert smtp_serial == imaps_serial
    assert certificate["ready"] is True
    assert certificate["observed"]["serial"].replace(":", "").upper() == smtp_serial
    assert "renew_at" in certificate["observed"]
    assert "Pebble" in certificate["observed"]["issuer"]


def test_restart_with_valid_certificate_places_no_order(lab, acme_mailhost_server):
    server = acme_mailhost_server.start_issued()
    meta_file = server.folder / "state" / "certs" / "mail.example.test" / "meta.json"
    first = json.loads(meta_file.read_text())
    server.stop()

    server.start_issued()
    second = json.loads(meta_file.read_text())

    assert second["serial"] == first["serial"]
    assert second["issued_at"] == first["issued_at"]
    assert "placed ACME order" not in (server.folder / "mailroom-2.log").read_text()


def test_plan_shows_due_renewal_offline(lab, acme_mailhost_server):
    server = acme_mailhost_server.start_issued()
    server.stop()
    due = dict(server.spec, tls={**server.spec["tls"], "renew_before_days": 36500})
    server.write_spec(due)

    # `unshare -n` runs plan in a network namespace with no interfaces up, so it cannot reach the CA.
    plan = procs.run(["unshare", "-n", mailroom.binary(), "plan", server.spec_file], check=False)

    assert plan.returncode == 0, plan.stderr
    assert "certificate mail.example.test: renew (expires in " in plan.stdout
