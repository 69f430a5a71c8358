"""Processes started by the lab: started with a log file, stopped by pid.

A peer that dies or never becomes ready raises `PeerStartError` with the
tail of its own log, so a failing test shows the peer's reason instead of a
bare timeout.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

# Seconds a peer may take to become ready before the test fails. On a 2-core
# machine each peer was ready within 3 s, so this bound only turns a hang
# into a failure with a log tail.
READY_DEADLINE = 30.0

# Seconds a process gets to exit after SIGTERM before it is sent SIGKILL.
STOP_GRACE = 15.0

LOG_TAIL_LINES = 40


class PeerStartError(AssertionError):
    """A peer exited or never became ready; the message ends with its log."""


def log_tail(path, lines=LOG_TAIL_LINES):
    """Return the last `lines` lines of the file at `path`, or a note if absent."""
    path = Path(path)
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class Process:
    """One started program, its log file, and how to stop it."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        # Further logs the program writes itself, shown after its output on failure.
        self.extra_logs = []
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        full_env = dict(os.environ)
        full_env.update(env or {})
        # Each program leads its own session and process group, because
        # Postfix's master signals its group on SIGTERM and fails otherwise.
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                start_new_session=True,
            )
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def tail(self, lines=LOG_TAIL_LINES):
        parts = [log_tail(self.log_path, lines)]
        parts += [f"--- last lines of {path} ---\n{log_tail(path, lines)}" for path in self.extra_logs]
        return "\n".join(parts)

    def fail(self, reason):
        """Raise `PeerStartError` naming this peer, `reason` and its log tail."""
        raise PeerStartError(
            f"{self.name} (pid {self.pid}) {reason}\n"
            f"command: {' '.join(self.argv)}\n"
            f"--- last lines of {self.log_path} ---\n{self.tail()}"
        )

    def wait_ready(self, probe, what, deadline=READY_DEADLINE):
        """Poll `probe()` until it returns true.

        Fails at once with the log tail if the process exits first, and after
        `deadline` seconds if it never becomes ready.
        """
        start = time.monotonic()
        while True:
            if not self.alive():
                self.fail(f"exited with status {self.popen.returncode} before {what}")
            if probe():
                return
            if time.monotonic() - start > deadline:
                self.fail(f"was not ready ({what}) after {deadline:.0f} s")
            time.sleep(0.05)

    def signal(self, signum):
        if self.alive():
            os.kill(self.pid, signum)

    def stop(self, grace=STOP_GRACE):
        """Send SIGTERM, wait up to `grace` seconds, then SIGKILL; return the exit status."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        return self.popen.returncode


def run(argv, check=True, timeout=120, **kwargs):
    """Run a command to completion and capture its output as text.

    On a non-zero exit with `check`, raise an AssertionError that shows the
    command, its status and both output streams.
    """
    argv = [str(a) for a in argv]
    kwargs.setdefault("text", True)
    result = subprocess.run(argv, capture_output=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f"command failed with status {result.returncode}: {' '.join(argv)}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
    return result


def wait_for(condition, what, deadline=READY_DEADLINE, interval=0.1):
    """Poll `condition()` until it returns a true value, and return that value.

    Raises AssertionError naming `what` after `deadline` seconds. This is a
    bound on a hang, not a timing assertion.
    """
    start = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() - start > deadline:
            raise AssertionError(f"gave up waiting after {deadline:.0f} s for {what}")
        time.sleep(interval)
