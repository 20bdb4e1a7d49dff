"""The lab itself: idempotent up, clean down, leftovers from a crashed run."""

import contextlib
import signal
import subprocess
from pathlib import Path

from lab import network, procs
from lab.lab import LabError
from lab.layout import (
    BRIDGE,
    BRIDGE_MAC,
    NETNS_PREFIX,
    VETH_PREFIX,
    netns_name,
    veth_name,
)
from lab.procs import Proc


def recorded_procs(lab) -> list[Proc]:
    state = lab._load()
    found = [Proc.from_dict(state.get("master"))]
    found += [
        Proc.from_dict(h.get(d)) for h in state["hosts"].values() for d in ("dockerd", "minion")
    ]
    return [p for p in found if p]


def assert_nothing_left(lab, pids: list[Proc]):
    assert not [p.pid for p in pids if procs.alive(p)]
    assert network.lab_netns() == []
    assert network.lab_links() == []
    assert not [m for m in network.mount_points() if m.startswith(f"{lab.paths.root}/")]
    assert not lab.paths.root.exists()
    cg = procs.cgroup_root()
    assert cg is None or not cg.exists()
    forward = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True).stdout
    assert BRIDGE not in forward


def test_down_up_up(lab, lab_hosts):
    """Down leaves nothing behind; up from nothing starts everything; up again nothing."""
    try:
        before = recorded_procs(lab)
        lab.down()
        assert_nothing_left(lab, before)

        first = lab.up(lab_hosts)
        assert first.hosts == lab_hosts
        assert set(first.started) >= {"master", *(f"{h}/dockerd" for h in lab_hosts)}
        running = recorded_procs(lab)
        second = lab.up(lab_hosts)
        assert second.started == []
        assert recorded_procs(lab) == running
        assert lab.ping(lab_hosts) == set(lab_hosts)
    finally:
        lab.up(lab_hosts)  # whatever failed, the next tests get their lab


def test_up_recovers_from_a_crashed_run(lab, lab_hosts):
    """State file lost while daemons run, a stray namespace and veth, stale pid files."""
    orphans = recorded_procs(lab)
    lab.paths.state_file.unlink()
    stale_ns, veth, peer = f"{NETNS_PREFIX}stale", f"{VETH_PREFIX}199", f"{VETH_PREFIX}198"
    subprocess.run(["ip", "netns", "add", stale_ns], check=True)
    subprocess.run(["ip", "link", "add", veth, "type", "veth", "peer", "name", peer], check=True)
    report = lab.up(lab_hosts)
    assert lab.ping(lab_hosts) == set(lab_hosts)
    assert not [p.pid for p in orphans if procs.alive(p)], "leftover daemons were not stopped"
    assert stale_ns not in network.lab_netns()
    assert not {veth, peer} & set(network.lab_links())
    assert sorted(report.hosts) == sorted(lab_hosts)


def test_up_restarts_a_dead_daemon_and_replaces_a_stale_pidfile(lab, lab_hosts):
    name = lab_hosts[0]
    lab.stop_daemon(name, "dockerd")
    pidfile = lab.paths.host(name).docker_pidfile
    pidfile.write_text("1\n")  # a pid that is not ours must not block the restart
    report = lab.up(lab_hosts)
    assert report.started == [f"{name}/dockerd"]
    assert lab.docker(name, "info", "--format", "{{.Name}}").stdout.strip() == name


def test_up_adds_hosts_to_a_running_lab(lab, lab_hosts):
    running = recorded_procs(lab)
    extra = "extra1"
    report = lab.up([*lab_hosts, extra])
    assert sorted(report.started) == [f"{extra}/dockerd", f"{extra}/minion"]
    assert set(recorded_procs(lab)) >= set(running)
    assert lab.ping([extra]) == {extra}
    assert Path(f"/var/run/netns/{netns_name(extra)}").exists()


def test_remove_takes_a_host_out_and_the_others_keep_running(lab, lab_hosts):
    extra = "extra1"
    lab.up([*lab_hosts, extra])
    host = lab._load()["hosts"][extra]
    its_procs = [Proc.from_dict(host[d]) for d in ("dockerd", "minion")]
    others = [p for p in recorded_procs(lab) if p not in its_procs]
    root = lab.paths.host(extra).root

    assert lab.remove([extra, "not-a-host"]) == [extra]
    assert extra not in lab.hosts
    assert not [p.pid for p in its_procs if procs.alive(p)]
    assert netns_name(extra) not in network.lab_netns()
    assert veth_name(host["index"]) not in network.lab_links()
    assert not [m for m in network.mount_points() if m.startswith(f"{root}/")]
    assert not root.exists()
    assert not (lab.accepted_keys_dir / extra).exists()
    assert all(procs.alive(p) for p in others)
    assert lab.ping(lab_hosts) == set(lab_hosts)
    # The bridge kept its address: the hosts' ARP entries for the master still hold.
    assert Path(f"/sys/class/net/{BRIDGE}/address").read_text().strip() == BRIDGE_MAC

    lab.up([*lab_hosts, extra])  # the same name comes back as a new host
    assert lab.ping([extra]) == {extra}
    lab.remove([extra])


def test_revive_brings_back_a_stopped_minion_and_a_paused_dockerd(lab, lab_hosts):
    assert lab.revive(timeout=3) == []
    stopped, paused = lab_hosts[1], lab_hosts[2]
    lab.stop_daemon(stopped, "minion")
    lab.signal_daemon(paused, "dockerd", signal.SIGSTOP)
    try:
        revived = lab.revive(timeout=3)
    finally:
        with contextlib.suppress(LabError):
            lab.signal_daemon(paused, "dockerd", signal.SIGCONT)
    assert sorted(revived) == sorted([f"{stopped}/minion", f"{paused}/dockerd"])
    assert lab.ping(lab_hosts) == set(lab_hosts)
    assert lab.docker(paused, "info", "--format", "{{.Name}}").stdout.strip() == paused
