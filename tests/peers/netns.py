"""Hosts of a scenario as network namespaces joined by one bridge.

Layout, all of it inside namespaces the lab creates:

    mailroom-<run>-switch   bridge br0, one veth end per host
    mailroom-<run>-<role>   lo and eth0 (10.99.0.<n>/24), nothing else

The root namespace gets no interface and no address, so no packet sent in a
scenario can leave the lab. Each host gets `/etc/netns/<name>/resolv.conf`
pointing at the DNS host and its own `hosts` file; `ip netns exec`
bind-mounts them over `/etc` for every program run there.
"""

import os
import secrets
import shutil
import signal
from pathlib import Path

from . import procs

NETNS_ETC = Path("/etc/netns")
NAME_PREFIX = "mailroom-"


class Host:
    """One namespace: its role in the scenario, its address and how to run in it."""

    def __init__(self, role, netns, address):
        self.role = role
        self.netns = netns
        self.address = address

    def __repr__(self):
        return f"Host({self.role!r}, {self.netns!r}, {self.address!r})"

    def argv(self, argv):
        """Return `argv` prefixed so that it runs inside this host."""
        return ["ip", "netns", "exec", self.netns, *[str(a) for a in argv]]

    def run(self, argv, **kwargs):
        return procs.run(self.argv(argv), **kwargs)

    def start(self, name, argv, log_path, env=None, cwd=None):
        return procs.Process(f"{name} in {self.role}", self.argv(argv), log_path, env=env, cwd=cwd)

    def listening(self, port, address=None):
        """Return whether a TCP socket listens on `port` (and `address`, if given) here."""
        result = self.run(["ss", "-Hltn", f"sport = :{port}"], check=False)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        if address is None:
            return bool(lines)
        return any(f"{address}:{port}" in line for line in lines)


class Network:
    """Namespaces for `roles` on one bridge, with DNS pointed at the `dns_role` host."""

    def __init__(self, roles, subnet="10.99.0", dns_role="dns", extra_hosts=None):
        self.run_id = secrets.token_hex(3)
        self.subnet = subnet
        self.switch = f"{NAME_PREFIX}{self.run_id}-switch"
        self.hosts = {}
        self._created = []
        for index, role in enumerate(roles):
            netns = f"{NAME_PREFIX}{self.run_id}-{role}"
            self.hosts[role] = Host(role, netns, f"{subnet}.{10 + index}")
        self.dns_role = dns_role
        self.extra_hosts = extra_hosts or {}
        self._made_netns_etc = False

    def __getitem__(self, role):
        return self.hosts[role]

    def create(self):
        """Create the switch and every host; on any failure, delete what exists."""
        try:
            self._add_netns(self.switch)
            self._ip(self.switch, "link", "add", "br0", "type", "bridge")
            self._ip(self.switch, "link", "set", "br0", "up")
            for index, host in enumerate(self.hosts.values()):
                self._add_host(index, host)
        except BaseException:
            self.delete()
            raise
        return self

    def _add_host(self, index, host):
        self._add_netns(host.netns)
        self._write_etc(host)
        port = f"port{index}"
        self._ip(self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
        self._ip(self.switch, "link", "set", port, "master", "br0", "up")
        self._ip(host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
        self._ip(host.netns, "link", "set", "eth0", "up")

    def _add_netns(self, netns):
        procs.run(["ip", "netns", "add", netns])
        self._created.append(netns)
        self._ip(netns, "link", "set", "lo", "up")

    def _ip(self, netns, *args):
        procs.run(["ip", "-n", netns, *args])

    def _write_etc(self, host):
        if not NETNS_ETC.exists():
            NETNS_ETC.mkdir()
            self._made_netns_etc = True
        etc = NETNS_ETC / host.netns
        etc.mkdir(parents=True, exist_ok=True)
        dns = self.hosts.get(self.dns_role)
        nameserver = dns.address if dns else "127.0.0.1"
        (etc / "resolv.conf").write_text(f"nameserver {nameserver}\noptions timeout:2 attempts:2\n")
        lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost"]
        lines += [f"{address} {name}" for name, address in self.extra_hosts.items()]
        (etc / "hosts").write_text("\n".join(lines) + "\n")

    def delete(self):
        """Stop anything still running in the namespaces, then delete them and their /etc files.

        The lab stops its own processes by pid before this. A process still
        found here is a child that outlived its parent, so it gets SIGKILL by
        pid, because a namespace with a process in it outlives `ip netns del`.
        """
        errors = []
        for netns in reversed(self._created):
            leftover = procs.run(["ip", "netns", "pids", netns], check=False).stdout.split()
            for pid in leftover:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            result = procs.run(["ip", "netns", "del", netns], check=False)
            if result.returncode != 0:
                errors.append(f"{netns}: {result.stderr.strip()}")
            shutil.rmtree(NETNS_ETC / netns, ignore_errors=True)
        self._created.clear()
        if self._made_netns_etc and not any(NETNS_ETC.iterdir()):
            NETNS_ETC.rmdir()
            self._made_netns_etc = False
        if errors:
            raise AssertionError("cannot delete namespaces: " + "; ".join(errors))

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()
