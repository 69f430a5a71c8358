"""Postfix and Dovecot in mailroom's place, to prove the scenarios themselves.

With `MAILROOM_LAB_REFERENCE=1`, the scenarios run against this pair instead
of mailroom: Postfix as the MX on port 25 (STARTTLS, no AUTH, relaying
denied with 550 5.7.1) delivering into Maildirs, and Dovecot serving them on
ports 143 and 993. A scenario that fails here has a bug of its own.
"""

import grp
import os
import pwd
import shutil
import signal
from pathlib import Path

from . import procs
from .postfix import Postfix

ENV_SWITCH = "MAILROOM_LAB_REFERENCE"
MAIL_USER = "mail"


def wanted():
    return os.environ.get(ENV_SWITCH) == "1"


class ReferenceMailhost:
    """The same interface as `mailroom.Mailroom`: start, stop, status, log."""

    def __init__(self, host, folder, hostname, domain, cert, key, accounts):
        self.host = host
        self.folder = Path(folder)
        self.hostname = hostname
        self.domain = domain
        self.cert = cert
        self.key = key
        self.accounts = accounts
        self.mail_root = self.folder / "mail"
        self.postfix = None
        self.dovecot = None
        self.process = None

    def start(self):
        if not shutil.which("dovecot"):
            raise AssertionError(f"{ENV_SWITCH}=1 needs Dovecot: apt-get install dovecot-imapd")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        self.mail_root.mkdir(exist_ok=True)
        mail = pwd.getpwnam(MAIL_USER)
        os.chown(self.mail_root, mail.pw_uid, mail.pw_gid)
        self._start_postfix(mail)
        self._start_dovecot(mail)
        self.process = self.postfix.process
        return self

    def _start_postfix(self, mail):
        mailboxes = self.folder / "vmailbox"
        mailboxes.write_text("".join(f"{a} {a.split('@')[1]}/{a.split('@')[0]}/\n" for a in self.accounts))
        settings = {
            "inet_interfaces": "all",
            "mynetworks": "127.0.0.0/8",
            "relay_domains_reject_code": "550",
            "virtual_mailbox_domains": self.domain,
            "virtual_mailbox_base": self.mail_root,
            "virtual_mailbox_maps": f"texthash:{mailboxes}",
            "virtual_uid_maps": f"static:{mail.pw_uid}",
            "virtual_gid_maps": f"static:{mail.pw_gid}",
            "virtual_minimum_uid": mail.pw_uid,
            "smtpd_tls_cert_file": self.cert,
            "smtpd_tls_key_file": self.key,
            "smtpd_tls_security_level": "may",
            "smtpd_tls_protocols": ">=TLSv1.2",
            "smtpd_tls_exclude_ciphers": "aNULL, eNULL, EXPORT",
        }
        self.postfix = Postfix(
            self.host,
            self.folder / "postfix",
            self.hostname,
            listen_address=self.host.address,
            settings=settings,
            services="virtual   unix  -       n       n       -       -       virtual\n",
        )
        self.postfix.start()

    def _start_dovecot(self, mail):
        passwd = self.folder / "passwd"
        passwd.write_text("".join(f"{a}:{{SHA512-CRYPT}}{h}\n" for a, h in self.accounts.items()))
        passwd.chmod(0o644)
        config = self.folder / "dovecot.conf"
        config.write_text(f"""base_dir = {self.folder}/dovecot-run/
state_dir = {self.folder}/dovecot-state
log_path = {self.folder}/dovecot.log
protocols = imap
listen = {self.host.address}
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{self.key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{self.mail_root}/%d/%n
first_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={grp.getgrgid(mail.pw_gid).gr_name} home={self.folder}/home/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    port = 143
  }}
  inet_listener imaps {{
    port = 993
    ssl = yes
  }}
}}
""")
        self.dovecot = self.host.start("dovecot", ["dovecot", "-F", "-c", config], self.folder / "dovecot.out")
        self.dovecot.extra_logs.append(self.folder / "dovecot.log")
        self.dovecot.wait_ready(lambda: self.host.listening(993, self.host.address), "imaps on port 993")

    def status(self):
        return {"converged": True}

    def stop(self):
        """Stop Dovecot and Postfix; return 0 when Postfix's master stopped cleanly.

        Postfix's master ends itself with the signal it received, so after
        SIGTERM its status is -SIGTERM; that is its clean stop.
        """
        if self.dovecot:
            self.dovecot.stop()
        if not self.postfix:
            return None
        status = self.postfix.stop()
        return 0 if status == -signal.SIGTERM else status

    def log(self):
        return self.postfix.log() if self.postfix else ""
