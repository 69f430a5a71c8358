"""Listeners whose role is not built yet answer at once instead of leaving
clients waiting in the backlog."""

from mailhost import smtp_greeting

SUBMISSION = ("127.0.0.1", 2587)


def test_submission_port_rejects_with_554(dev_host):
    greeting = smtp_greeting(SUBMISSION)
    assert greeting.startswith(b"554 5.3.2 "), greeting
    assert b"submission" in greeting
