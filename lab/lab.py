"""The lab as one object: bring hosts up, take everything down, run commands on hosts."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab import bytecode, daemons, network, prereqs, procs
from lab.layout import (
    LAB_INDEX,
    MASTER_ADDR,
    LabPaths,
    check_name,
    default_root,
    host_addr,
)
from lab.procs import Proc
from lab.wait import WaitTimeout, wait_for

DAEMONS = ("dockerd", "minion")


class LabError(RuntimeError):
    pass


def repo_root() -> Path:
    """The source tree salt-swarm runs from (editable install or checkout), else the cwd."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "states").is_dir() else Path.cwd()


@dataclass
class UpReport:
    hosts: list[str]
    started: list[str] = field(default_factory=list)
    seconds: float = 0.0
    memory_kib: dict = field(default_factory=dict)


class Lab:
    def __init__(self, root: Path | str | None = None):
        self.paths = LabPaths(Path(root) if root else default_root())
        self._client = None

    # ---- state -------------------------------------------------------------
    def _load(self) -> dict:
        try:
            state = json.loads(self.paths.state_file.read_text())
        except FileNotFoundError:
            return {"hosts": {}}
        # Names and addresses come from the index: another lab's folder would be
        # handled with this lab's bridge, namespaces and cgroup.
        index = state.get("lab_index", LAB_INDEX)
        if index != LAB_INDEX:
            raise LabError(
                f"{self.paths.root} is the folder of lab {index}, but this is lab {LAB_INDEX}: "
                f"run with SALT_SWARM_LAB_INDEX={index}"
            )
        return state

    def _save(self, state: dict) -> None:
        state["lab_index"] = LAB_INDEX
        tmp = self.paths.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.paths.state_file)

    @contextlib.contextmanager
    def _locked(self):
        lock_path = self.paths.root.parent / f".{self.paths.root.name}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @property
    def hosts(self) -> list[str]:
        state = self._load()
        return sorted(state["hosts"], key=lambda n: state["hosts"][n]["index"])

    def addr(self, name: str) -> str:
        return self._load()["hosts"][name]["addr"]

    def docker_url(self, name: str) -> str:
        return self.paths.host(name).docker_url

    # ---- up ----------------------------------------------------------------
    def up(
        self,
        names: list[str],
        pillar_dir: Path | str | None = None,
        states_dir: Path | str | None = None,
        timeout: float = 180.0,
        log=print,
    ) -> UpReport:
        """Make sure the master and these hosts run (adding to any running lab)."""
        for name in names:
            check_name(name)
        prereqs.ensure(log=log)
        began = time.monotonic()
        with self._locked():
            report = self._up(names, pillar_dir, states_dir, timeout)
        report.seconds = round(time.monotonic() - began, 2)
        report.memory_kib = self.memory_kib()
        return report

    def _up(self, names, pillar_dir, states_dir, timeout) -> UpReport:
        if not self.paths.state_file.exists():
            self._remove_leftovers()
        self.paths.root.mkdir(parents=True, exist_ok=True)
        state = self._load()
        cg = procs.cgroup_root()
        started = []

        network.ensure_bridge()
        network.ensure_forward_rule()
        bytecode.compile_package()
        self._point_pillar(state, pillar_dir)
        # The formula comes from the installed package (fileserver backend
        # swarm_formula); file_roots holds only what a bench or test adds.
        wanted_states = str(Path(states_dir or self.paths.file_roots).resolve())
        master_alive = procs.alive(Proc.from_dict(state.get("master")))
        if master_alive and state.get("states_dir") != wanted_states:
            # Other file_roots (or a master of an older lab): restart it to serve ours.
            self._drop_client()
            procs.stop([Proc.from_dict(state["master"])], timeout=15)
            master_alive = False
        state["states_dir"] = wanted_states
        Path(wanted_states).mkdir(parents=True, exist_ok=True)

        if not master_alive:
            self._drop_client()
            state["master"] = self._start_master(state, cg).as_dict()
            started.append("master")

        for name in names:
            if name not in state["hosts"]:
                used = {h["index"] for h in state["hosts"].values()}
                index = min(set(range(len(used) + 1)) - used)
                state["hosts"][name] = {"index": index, "addr": host_addr(index)}
        all_names = sorted(state["hosts"], key=lambda n: state["hosts"][n]["index"])
        for name in all_names:
            host = state["hosts"][name]
            paths = self.paths.host(name)
            network.ensure_host_net(name, host["index"], host["addr"])
            network.ensure_uts(paths.uts, name)
            for daemon in DAEMONS:
                if not procs.alive(Proc.from_dict(host.get(daemon))):
                    host[daemon] = self._start_host_daemon(name, daemon, cg).as_dict()
                    started.append(f"{name}/{daemon}")
            self._save(state)
        self._save(state)

        deadline = time.monotonic() + timeout
        self._wait_master(deadline)
        self._wait_dockerds(all_names, deadline)
        self._wait_minions(all_names, deadline)
        return UpReport(hosts=all_names, started=started)

    def _point_pillar(self, state: dict, pillar_dir) -> None:
        """The given folder; else the one in use (adding hosts keeps it); else the example."""
        current = state.get("pillar_dir")
        if not pillar_dir and current and Path(current).is_dir():
            pillar_dir = current
        target = Path(pillar_dir or repo_root() / "pillar.example").resolve()
        if not target.is_dir():
            raise LabError(f"pillar folder {target} does not exist")
        link = self.paths.pillar_link
        if link.is_symlink() and Path(os.readlink(link)) == target:
            state["pillar_dir"] = str(target)
            return
        tmp = link.with_name("pillar.new")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(target)
        tmp.replace(link)
        state["pillar_dir"] = str(target)

    def use_pillar(self, pillar_dir: Path | str) -> None:
        """Point the master's pillar_roots at another folder (no restart needed)."""
        with self._locked():
            state = self._load()
            self._point_pillar(state, pillar_dir)
            self._save(state)

    def _start_master(self, state: dict, cg) -> Proc:
        conf = daemons.master_config(self.paths, Path(state["states_dir"]))
        daemons.write_config(self.paths.master_conf_dir, "master", conf)
        (self.paths.master_root / "var" / "run" / "salt-master.pid").unlink(missing_ok=True)
        return procs.spawn(
            daemons.master_argv(self.paths),
            self.paths.master_log,
            cgroup=cg / "master" if cg else None,
        )

    def _start_host_daemon(self, name: str, daemon: str, cg) -> Proc:
        paths = self.paths.host(name)
        group = cg / name / daemon if cg else None
        if daemon == "dockerd":
            paths.docker_pidfile.parent.mkdir(parents=True, exist_ok=True)
            paths.docker_pidfile.unlink(missing_ok=True)
            paths.docker_sock.unlink(missing_ok=True)
            # dockerd trusts this pid file: a recycled pid makes it wait for a
            # containerd that is not there. Ours died with the old dockerd (cgroup).
            (paths.docker_exec / "containerd" / "containerd.pid").unlink(missing_ok=True)
            return procs.spawn(daemons.dockerd_argv(name, paths), paths.docker_log, cgroup=group)
        daemons.write_config(paths.minion_conf_dir, "minion", daemons.minion_config(name, paths))
        (paths.root / "var" / "run" / "salt-minion.pid").unlink(missing_ok=True)
        env = dict(os.environ, DOCKER_HOST=paths.docker_url)
        return procs.spawn(
            daemons.minion_argv(name, paths), paths.minion_log, cgroup=group, env=env
        )

    # ---- waits -------------------------------------------------------------
    @staticmethod
    def _wait(check, deadline: float, what: str, failure) -> None:
        """wait_for until ``deadline``; on timeout raise LabError(failure())."""
        try:
            wait_for(check, deadline - time.monotonic(), what, interval=0.1)
        except WaitTimeout:
            raise LabError(failure()) from None

    def _wait_master(self, deadline: float) -> None:
        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection((MASTER_ADDR, 4506), 0.5):
                return True
            return False

        self._wait(
            listening,
            deadline,
            "salt-master listening",
            lambda: (
                f"salt-master did not listen on {MASTER_ADDR}:4506; see {self.paths.master_log}"
            ),
        )

    def _wait_dockerds(self, names: list[str], deadline: float) -> None:
        pending = list(names)

        def all_answer() -> bool:
            pending[:] = [n for n in pending if not self._docker_ping(n)]
            return not pending

        self._wait(
            all_answer,
            deadline,
            "dockerd answering",
            lambda: f"dockerd did not answer on: {', '.join(pending)} (see dockerd.log)",
        )

    def _docker_ping(self, name: str) -> bool:
        sock_path = str(self.paths.host(name).docker_sock)
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1)
                sock.connect(sock_path)
                sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return b" 200 " in sock.recv(64)
        except OSError:
            return False

    def _wait_minions(self, names: list[str], deadline: float) -> None:
        from salt.exceptions import SaltClientError

        accepted = self.accepted_keys_dir
        pending = list(names)

        def all_answer() -> bool:
            keyed = [n for n in pending if (accepted / n).exists()]
            if keyed:
                try:
                    answered = self.ping(keyed, timeout=5)
                except SaltClientError:  # a master still starting or busy: not yet
                    return False
                pending[:] = [n for n in pending if n not in answered]
            return not pending

        self._wait(
            all_answer,
            deadline,
            "minions answering",
            lambda: f"these minions did not answer test.ping: {', '.join(pending)}",
        )

    # ---- salt --------------------------------------------------------------
    @property
    def master_config_file(self) -> str:
        return str(self.paths.master_conf_dir / "master")

    def local_client(self):
        if self._client is None:
            import salt.client

            self._client = salt.client.LocalClient(c_path=self.master_config_file)
        return self._client

    def _drop_client(self) -> None:
        """Forget the LocalClient: a restarted master has new keys and a new event bus."""
        if self._client is not None:
            self._client.destroy()
            self._client = None

    @property
    def accepted_keys_dir(self) -> Path:
        """One file per minion whose key the master accepted."""
        return self.paths.master_conf_dir / "pki" / "master" / "minions"

    def pillar_in_use(self) -> Path | None:
        """The folder the master's pillar_roots point at now."""
        link = self.paths.pillar_link
        return Path(os.readlink(link)) if link.is_symlink() else None

    def run_everywhere(self, fun: str, timeout: float = 60, strict: bool = True, **kwarg) -> dict:
        """Run ``fun`` on every minion whose key the master accepted, through the
        in-process client (no `salt` CLI to start: about 1.5 s less per call here).
        With ``strict``, LabError names each minion that failed or did not answer."""
        keys = self.accepted_keys_dir
        accepted = sorted(p.name for p in keys.iterdir()) if keys.is_dir() else []
        if not accepted:
            return {}
        got = self.local_client().cmd(
            accepted, fun, kwarg=kwarg, tgt_type="list", timeout=timeout, full_return=True
        )
        failed = {
            name: (got[name].get("ret") if name in got else "no answer")
            for name in accepted
            if name not in got or got[name].get("retcode", 0) != 0
        }
        if failed and strict:
            raise LabError(f"{fun} failed on {', '.join(sorted(failed))}: {failed}")
        return {name: got[name].get("ret") for name in accepted if name in got}

    def ping(self, names: list[str], timeout: float = 5) -> set[str]:
        ret = self.local_client().cmd(names, "test.ping", tgt_type="list", timeout=timeout)
        return {n for n, ok in ret.items() if ok is True}

    def salt(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run the `salt` CLI against the lab's master."""
        argv = [daemons.salt_script("salt"), "-c", str(self.paths.master_conf_dir), *args]
        return _run(argv, timeout)

    def salt_json(self, *args: str, timeout: float = 300) -> SaltResult:
        """Run `salt ... --out=json` and merge the per-minion documents.

        Not ``--static``: with it the salt CLI exits 0 even when a minion failed.
        """
        res = self.salt(*args, "--out=json", timeout=timeout)
        return SaltResult(res.returncode, _json_documents(res.stdout), res.stdout + res.stderr)

    def salt_run_argv(self, *args: str) -> list[str]:
        return [daemons.salt_script("salt-run"), "-c", str(self.paths.master_conf_dir), *args]

    def salt_run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return _run(self.salt_run_argv(*args), timeout)

    def salt_key(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        argv = [daemons.salt_script("salt-key"), "-c", str(self.paths.master_conf_dir), *args]
        return _run(argv, timeout)

    def salt_call(self, name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run `salt-call` on host ``name`` (inside its namespaces, with its config)."""
        paths = self.paths.host(name)
        argv = [
            *daemons.in_host(name, paths),
            daemons.salt_script("salt-call"),
            "-c",
            str(paths.minion_conf_dir),
            *args,
        ]
        return _run(argv, timeout, env=dict(os.environ, DOCKER_HOST=paths.docker_url))

    def docker(self, name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the docker CLI against host ``name``'s own dockerd."""
        return _run(["docker", "-H", self.docker_url(name), *args], timeout)

    def shell_argv(self, name: str, argv: list[str]) -> list[str]:
        return [*daemons.in_host(name, self.paths.host(name)), *argv]

    def docker_client(self, name: str):
        import docker

        return docker.DockerClient(base_url=self.docker_url(name), timeout=60)

    # ---- single daemons (fault tests) --------------------------------------
    def stop_daemon(self, name: str, daemon: str, timeout: float = 30) -> None:
        with self._locked():
            state = self._load()
            proc = Proc.from_dict(state["hosts"][name].get(daemon))
            left = procs.stop([proc], timeout)
            cg = procs.cgroup_root()
            if cg:
                procs.kill_pids(procs.cgroup_pids(cg / name / daemon))
            if left:
                raise LabError(f"{daemon} on {name} (pid {proc.pid}) did not stop")
            state["hosts"][name][daemon] = None
            self._save(state)

    def signal_daemon(self, name: str, daemon: str, signum: int) -> None:
        """Send ``signum`` to one daemon of a host by its recorded pid (fault tests
        pause a minion with SIGSTOP and let it go on with SIGCONT)."""
        with self._locked():
            proc = Proc.from_dict(self._load()["hosts"][name].get(daemon))
        if not procs.alive(proc):
            raise LabError(f"{daemon} on {name} is not running")
        os.kill(proc.pid, signum)

    def restart_master(self, timeout: float = 60) -> None:
        """Stop the salt-master (by its recorded pid) and start it again, until it listens."""
        self._drop_client()
        with self._locked():
            state = self._load()
            left = procs.stop([Proc.from_dict(state.get("master"))], timeout=15)
            if left:
                raise LabError(f"salt-master (pid {left[0].pid}) did not stop")
            cg = procs.cgroup_root()
            if cg:  # its worker processes, should any outlive it
                procs.kill_pids(procs.cgroup_pids(cg / "master"))
            state["master"] = self._start_master(state, cg).as_dict()
            self._save(state)
        self._wait_master(time.monotonic() + timeout)

    def wipe_swarm_state(self, name: str, stop_timeout: float = 5) -> None:
        """Stop dockerd on ``name``, delete its swarm state, start it again (a rebuilt host)."""
        self.stop_daemon(name, "dockerd", timeout=stop_timeout)
        shutil.rmtree(self.paths.host(name).docker_data / "swarm", ignore_errors=True)
        self.start_daemon(name, "dockerd")

    def start_daemon(self, name: str, daemon: str, timeout: float = 60, wait: bool = True) -> None:
        """Start one daemon of a host; unless ``wait=False``, until it answers."""
        with self._locked():
            state = self._load()
            host = state["hosts"][name]
            if not procs.alive(Proc.from_dict(host.get(daemon))):
                host[daemon] = self._start_host_daemon(name, daemon, procs.cgroup_root()).as_dict()
                self._save(state)
        if not wait:
            return
        deadline = time.monotonic() + timeout
        if daemon == "dockerd":
            self._wait_dockerds([name], deadline)
        else:
            self._wait_minions([name], deadline)

    def revive(self, timeout: float = 30) -> list[str]:
        """Bring back every host daemon that is gone, or (a dockerd) that does not
        answer within ``timeout`` s: stopped by its recorded pid and started again.
        Returns what was revived, as ``host/daemon``."""
        state = self._load()
        names = self.hosts
        dead = [
            f"{n}/{d}"
            for n in names
            for d in DAEMONS
            if not procs.alive(Proc.from_dict(state["hosts"][n].get(d)))
        ]
        silent = [n for n in names if f"{n}/dockerd" not in dead]
        with contextlib.suppress(LabError):  # a dockerd started just now may still be coming up
            self._wait_dockerds(silent, time.monotonic() + timeout)
        silent = [n for n in silent if not self._docker_ping(n)]
        for name in silent:
            self.signal_daemon(name, "dockerd", signal.SIGCONT)  # a paused one cannot stop
            self.stop_daemon(name, "dockerd")
            dead.append(f"{name}/dockerd")
        for name, daemon in (d.split("/") for d in dead):
            self.start_daemon(name, daemon, timeout=60)
        return dead

    # ---- remove hosts ------------------------------------------------------
    def remove(self, names: list[str]) -> list[str]:
        """Take hosts out of a running lab: their daemons stopped (by recorded pid),
        their namespace, veth and files gone, their minion key and the master's cache
        of them deleted. The master and the other hosts keep running. An idle minion
        still runs every job sent to all minions, and the master renders its pillar,
        so tests that add hosts take them out again. Returns the hosts removed."""
        with self._locked():
            state = self._load()
            gone = [n for n in names if n in state["hosts"]]
            recorded = [Proc.from_dict(state["hosts"][n].get(d)) for n in gone for d in DAEMONS]
            left = procs.stop([p for p in recorded if p], timeout=30)
            if left:
                raise LabError(f"pids {[p.pid for p in left]} did not stop")
            cg = procs.cgroup_root()
            for name in gone:
                self._remove_host(name, state["hosts"][name]["index"], cg)
                del state["hosts"][name]
                self._save(state)
        return gone

    def _remove_host(self, name: str, index: int, cg: Path | None) -> None:
        if cg:
            procs.remove_cgroup(cg / name)
        network.remove_host_net(name, index)
        root = self.paths.host(name).root
        left = network.unmount_under(root)
        if left:
            raise LabError(f"could not unmount: {', '.join(left)}")
        shutil.rmtree(root, ignore_errors=True)
        (self.accepted_keys_dir / name).unlink(missing_ok=True)
        cache = self.paths.master_root / "var" / "cache" / "salt" / "master"
        for bank in ("grains", "pillar", "mine"):
            (cache / bank / f"{name}.p").unlink(missing_ok=True)

    # ---- down --------------------------------------------------------------
    def down(self, log=print) -> None:
        self._drop_client()
        with self._locked():
            state = self._load()
            recorded = [Proc.from_dict(h.get(d)) for h in state["hosts"].values() for d in DAEMONS]
            recorded = [p for p in recorded if p]
            master = Proc.from_dict(state.get("master"))
            survivors = procs.stop(recorded, timeout=30)
            survivors += procs.stop([master], timeout=15)
            if survivors:
                log(f"warning: pids {[p.pid for p in survivors]} survived SIGKILL")
            self._remove_leftovers()
            procs.wait_reaped(recorded + ([master] if master else []))

    def _remove_leftovers(self) -> None:
        """Stop what is left in the lab's cgroups, unmount, remove links and files."""
        cg = procs.cgroup_root()
        if cg:
            procs.remove_cgroup(cg)
        left = network.unmount_under(self.paths.root)
        network.remove_all()
        if left:
            raise LabError(f"could not unmount: {', '.join(left)}")
        if self.paths.root.exists():
            shutil.rmtree(self.paths.root)

    # ---- status ------------------------------------------------------------
    def status(self) -> dict:
        state = self._load()
        hosts = {}
        for name in sorted(state["hosts"], key=lambda n: state["hosts"][n]["index"]):
            host = state["hosts"][name]
            hosts[name] = {
                "addr": host["addr"],
                "dockerd": _pid_if_alive(host.get("dockerd")),
                "minion": _pid_if_alive(host.get("minion")),
                "docker_url": self.docker_url(name),
            }
        return {
            "root": str(self.paths.root),
            "master": _pid_if_alive(state.get("master")),
            "pillar_dir": state.get("pillar_dir"),
            "states_dir": state.get("states_dir"),
            "hosts": hosts,
            "netns": network.lab_netns(),
        }

    def memory_kib(self) -> dict:
        """PSS of the lab's processes by kind, and the total."""
        cg = procs.cgroup_root()
        totals = {"master": 0, "dockerd": 0, "minion": 0}
        if not cg or not cg.is_dir():
            return totals
        for kind in totals:
            groups = [cg / "master"] if kind == "master" else list(cg.glob(f"*/{kind}"))
            totals[kind] = sum(procs.pss_kib(pid) for g in groups for pid in procs.cgroup_pids(g))
        totals["total"] = sum(totals.values())
        return totals


@dataclass
class SaltResult:
    retcode: int
    data: dict
    output: str


def _json_documents(text: str) -> dict:
    """Merge a stream of JSON objects (one per minion) into one dict."""
    decoder = json.JSONDecoder()
    merged, pos = {}, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return merged
        doc, pos = decoder.raw_decode(text, pos)
        if isinstance(doc, dict):
            merged.update(doc)


def _pid_if_alive(data: dict | None) -> int | None:
    proc = Proc.from_dict(data)
    return proc.pid if procs.alive(proc) else None


def _run(argv: list[str], timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
