"""A private Postfix instance acting as an internet MTA.

It never reads or writes /etc/postfix: `postfix -c DIR` and `master -c DIR -d`
use a config folder of the lab's own, with the queue, data folder and mail
log beside it. There is no syslog, so `maillog_file` carries every log line.
Mail is handed over by SMTP on the instance's own loopback port; next hops
come from DNS (MX records in the lab's Knot) unless `transport_maps` routes
the mail elsewhere.
"""

import pwd
import os
import re
from pathlib import Path

from . import clients, procs

MASTER = "/usr/lib/postfix/sbin/master"
QUEUED_AS = re.compile(r"queued as ([0-9A-Za-z]+)")

# Services a sending MTA needs; chroot is off ("n") because the lab folder is
# not laid out as a chroot jail.
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """A Postfix inside `host` accepting mail on `listen_address`:`port` and sending it on.

    `tls_level` is `smtp_tls_security_level` for outgoing mail; with
    `verify` or `secure` the peer's certificate must chain to `ca_file`.
    `tls_policy` maps a next-hop domain to its own level (`smtp_tls_policy_maps`).
    `settings` adds or overrides main.cf parameters, and `services` adds
    master.cf lines.
    """

    def __init__(
        self,
        host,
        folder,
        myhostname,
        port=25,
        listen_address="127.0.0.1",
        tls_level="may",
        tls_policy=None,
        ca_file=None,
        settings=None,
        services="",
    ):
        self.host = host
        self.folder = Path(folder)
        self.config_dir = self.folder / "conf"
        self.maillog = self.folder / "maillog"
        self.myhostname = myhostname
        self.port = port
        self.listen_address = listen_address
        self.services = services
        self.tls_level = tls_level
        self.ca_file = ca_file
        self.tls_policy = tls_policy or {}
        self.settings = settings or {}
        self.process = None

    def main_cf(self):
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.folder / "queue",
            "data_directory": self.folder / "data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.myhostname,
            "mydestination": "",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.folder,
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtp_tls_security_level": self.tls_level,
            "smtp_tls_loglevel": "1",
            "smtp_connect_timeout": "10s",
            "bounce_queue_lifetime": "0",
            "maximal_queue_lifetime": "1h",
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
        }
        if self.ca_file:
            settings["smtp_tls_CAfile"] = self.ca_file
        if self.tls_policy:
            settings["smtp_tls_policy_maps"] = f"texthash:{self.config_dir / 'tls_policy'}"
        settings.update(self.settings)
        return "".join(f"{name} = {value}\n" for name, value in settings.items())

    def start(self):
        self.config_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("queue", "data"):
            (self.folder / sub).mkdir(exist_ok=True)
        postfix_user = pwd.getpwnam("postfix")
        os.chown(self.folder / "data", postfix_user.pw_uid, postfix_user.pw_gid)
        self._make_traversable()
        (self.config_dir / "main.cf").write_text(self.main_cf())
        policy = "".join(f"{domain} {level}\n" for domain, level in self.tls_policy.items())
        (self.config_dir / "tls_policy").write_text(policy)
        master_cf = MASTER_CF.format(listen=f"{self.listen_address}:{self.port}") + self.services
        (self.config_dir / "master.cf").write_text(master_cf)
        self.maillog.touch()

        # `check` creates the queue folders with the owners Postfix expects.
        check = self.host.run(["postfix", "-c", self.config_dir, "check"], check=False)
        if check.returncode != 0:
            raise procs.PeerStartError(f"`postfix check` failed:\n{procs.log_tail(self.maillog)}")
        argv = [MASTER, "-c", self.config_dir, "-d"]
        self.process = self.host.start("postfix master", argv, self.folder / "master.log")
        self.process.extra_logs.append(self.maillog)
        self.process.wait_ready(
            lambda: self.host.listening(self.port, self.listen_address), f"smtpd on {self.listen_address}:{self.port}"
        )
        return self

    def _make_traversable(self):
        """Let the postfix user reach the queue: every parent folder needs the search bit."""
        for folder in [self.folder, *self.folder.parents]:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                raise AssertionError(f"{folder} is not searchable by the postfix user: make the lab folder 0755")

    def stop(self):
        """Stop the master with SIGTERM; return its exit status."""
        return self.process.stop() if self.process else None

    def submit(self, message_file, sender, recipient):
        """Hand a message file to this Postfix by SMTP on its loopback port; return the queue id.

        The message arrives byte for byte as in the file (see `clients.smtp_data_file`).
        """
        argv = [
            "swaks", "--server", f"127.0.0.1:{self.port}", "--from", sender, "--to", recipient,
            "--data", f"@{clients.smtp_data_file(message_file)}", "--no-data-fixup", "--timeout", "20",
        ]
        transcript = self.host.run(argv).stdout
        match = QUEUED_AS.search(transcript)
        if not match:
            raise AssertionError(f"postfix accepted the message but named no queue id:\n{transcript}")
        return match.group(1)

    def queue(self):
        """Return the queue listing (`postqueue -p`); it prints "Mail queue is empty" when it is."""
        return self.host.run(["postqueue", "-c", self.config_dir, "-p"], check=False).stdout

    def flush(self):
        self.host.run(["postqueue", "-c", self.config_dir, "-f"], check=False)

    def log(self):
        return self.maillog.read_text(errors="replace")

    def delivery_status(self, queue_id):
        """Return the `status=` values the mail log shows for queue id `queue_id`, oldest first."""
        pattern = re.compile(rf"\b{re.escape(queue_id)}: to=<[^>]*>.*?status=(\w+)")
        return [m.group(1) for m in pattern.finditer(self.log())]

    def wait_delivered(self, queue_id, deadline=60):
        """Wait until the log shows `status=sent` for `queue_id`; fail at once if it bounced.

        A deferred message is retried every few seconds (`minimal_backoff_time`),
        so `deadline` allows several attempts before the test fails with the log.
        """

        def settled():
            statuses = self.delivery_status(queue_id)
            if any(s in ("bounced", "expired") for s in statuses):
                raise AssertionError(f"postfix bounced {queue_id}:\n{procs.log_tail(self.maillog)}")
            return "sent" in statuses

        try:
            procs.wait_for(settled, f"postfix to deliver {queue_id}", deadline=deadline, interval=0.2)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- {self.maillog} ---\n{procs.log_tail(self.maillog)}") from None

    def log_lines(self, queue_id):
        """Return the mail log lines about `queue_id`."""
        return [line for line in self.log().splitlines() if f"{queue_id}:" in line]
