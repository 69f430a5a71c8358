"""Fixtures shared by the scenarios: the lab (once per session) and a fresh mailroom per test.

Run as root with Debian's Python: `/usr/bin/python3 -m pytest tests/scenarios`.
Each test's wall-clock time and the lab's start-up time are printed in the
terminal summary.
"""

import itertools
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peers import clients  # noqa: E402
from peers.lab import ALICE, Lab  # noqa: E402

TIMINGS = []
TEST_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def lab():
    """The hosts, zones and peers, started once; stopped and deleted at the end, also on failure."""
    if os.geteuid() != 0:
        pytest.fail("the lab creates network namespaces and binds port 25: run the scenarios as root")
    lab = Lab()
    try:
        lab.start()
    except BaseException:
        lab.close()
        raise
    TIMINGS.append(lab.timing_report())
    yield lab
    lab.close()


@pytest.fixture
def test_folder(lab, request):
    """A short, numbered folder for one test, with the test's id in its file TEST.

    The name is short because Postfix's queue sockets live below it and a
    Unix socket path is limited to 108 bytes.
    """
    folder = lab.folder / "tests" / f"t{next(TEST_NUMBERS):03d}"
    folder.mkdir(parents=True)
    (folder / "TEST").write_text(request.node.nodeid + "\n")
    return folder


@pytest.fixture
def alice_password():
    return clients.random_password(16)


@pytest.fixture
def mailhost(lab, test_folder, alice_password):
    """A mailroom with a fresh state folder and the account alice@example.test, stopped by pid after the test."""
    server = lab.mailroom(test_folder / "mailroom", {ALICE: alice_password})
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def submission_mailhost(lab, test_folder, alice_password):
    """Like `mailhost`, with the submission listeners on 587 (STARTTLS) and 465 (implicit TLS) as well."""
    server = lab.mailroom(test_folder / "mailroom", {ALICE: alice_password})
    address = lab["mailhost"].address
    server.spec["listeners"] += [
        {"role": "submission", "address": f"{address}:587"},
        {"role": "submissions", "address": f"{address}:465"},
    ]
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def scenario_timer(request):
    started = time.monotonic()
    yield
    TIMINGS.append(f"{request.node.name}: {time.monotonic() - started:.2f} s")


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("scenario times")
        for line in TIMINGS:
            terminalreporter.write_line(line)
