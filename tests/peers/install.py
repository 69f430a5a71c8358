"""Installs the lab's peers from Debian's archive when any is missing."""

import os
import subprocess
from pathlib import Path

# Everything the lab runs, by Debian package.
PACKAGES = [
    "pebble", "knot", "knot-dnsutils", "bind9-dnsutils", "postfix", "libsasl2-modules",
    "swaks", "libnet-ssleay-perl", "libio-socket-inet6-perl",
    "python3-aiosmtpd", "python3-dkim", "python3-spf", "python3-dnspython", "python3-nacl",
    "python3-acme", "python3-cryptography", "opendkim-tools", "isync", "offlineimap3",
    "openssl", "testssl.sh", "curl", "iproute2",
]

# Without it, Debian's maintainer scripts would start knotd and postfix as
# system services during the install.
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
POSTFIX_PRESEED = "postfix postfix/main_mailer_type select No configuration\n"


def missing_packages():
    """Return the packages of PACKAGES that dpkg does not list as installed."""
    missing = []
    for package in PACKAGES:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f", "${db:Status-Status}", package],
            capture_output=True,
            text=True,
        )
        if result.stdout.strip() != "installed":
            missing.append(package)
    return missing


def ensure_installed():
    """Install missing packages with apt-get; fail with apt's output if that is not possible."""
    missing = missing_packages()
    if not missing:
        return []
    if os.geteuid() != 0:
        raise AssertionError(f"missing Debian packages {missing}: run the lab as root, or install them first")
    if not POLICY_RC_D.exists():
        POLICY_RC_D.write_text("#!/bin/sh\n# Keep apt from starting services.\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    subprocess.run(["debconf-set-selections"], input=POSTFIX_PRESEED, text=True, check=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", "DPkg::Lock::Timeout=120"]
    _apt(["apt-get", *lock, "update"], env, missing)
    _apt(["apt-get", *lock, "install", "-y", "--no-install-recommends", *missing], env, missing)
    return missing


def _apt(argv, env, missing):
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(argv[:4])}` failed with status {result.returncode} while installing {missing}; "
            f"the lab needs Debian's archive for these:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
