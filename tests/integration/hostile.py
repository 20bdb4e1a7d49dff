"""Helpers to play a compromised lab host against the real daemons.

A compromised host is root on its own machine: it keeps its minion key, can make its
minion send anything, and its dockerd says what it likes. These helpers let a test do
just that, with real salt and docker daemons:

- ``LyingDockerd``: an HTTP proxy in front of a host's dockerd that lies in ``GET /info``
  (and ``minion_docker_url`` to point the host's salt-minion at it);
- ``extra_minion``: one more real salt-minion inside a host, with any minion id;
- ``pending_key``: a pending key request with any id on the master;
- ``MasterEvents``: what arrives on the master's event bus;
- ``fire_from`` / ``fire_events_from`` / ``send_mine``: events and mine data sent as
  a minion (``master_mine`` reads the mine back);
- ``Canary``, ``fingerprint``: what an attack must not have done.

Everything made here lives under ``<lab root>/_hostile`` (no lab host may be named
so: host names have no underscore), so ``lab down`` removes what a crashed test left.
"""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from lab import daemons, procs
from lab.procs import Proc
from lab.wait import WaitTimeout, wait_for

KEY_DIRS = ("minions", "minions_pre", "minions_rejected", "minions_denied")
CACHE_BANKS = ("grains", "pillar", "mine")


def scratch_dir(lab) -> Path:
    """The folder of this module's files inside the lab's folder."""
    folder = lab.paths.root / "_hostile"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def master_pki_dir(lab) -> Path:
    return lab.accepted_keys_dir.parent


def master_cache_dir(lab) -> Path:
    return lab.paths.master_root / "var" / "cache" / "salt" / "master"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _as_file_name(minion_id: str) -> str:
    """``minion_id`` as the one path component Salt makes of it; refuses what would
    leave the folder (Salt's ``valid_id`` refuses these too)."""
    if not minion_id or minion_id in (".", "..") or "/" in minion_id or "\0" in minion_id:
        raise ValueError(f"minion id {minion_id!r} is not one file name")
    return minion_id


def forget_minion(lab, minion_id: str) -> None:
    """Delete a minion's key (any state) and the master's cache of it, by file: no
    ``salt/key`` event, so no reactor and no AES key rotation (``salt-key -d`` does both)."""
    name = _as_file_name(minion_id)
    for folder in KEY_DIRS:
        (master_pki_dir(lab) / folder / name).unlink(missing_ok=True)
    for bank in CACHE_BANKS:
        (master_cache_dir(lab) / bank / f"{name}.p").unlink(missing_ok=True)


def _deep_merge(target: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def _same(a, b) -> bool:
    """Equal, and of the same JSON types (True is not 1)."""
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )


# ---- a lying dockerd --------------------------------------------------------------

_INFO_PATH = re.compile(r"^(?:/v\d+(?:\.\d+)*)?/info/?$")
_NO_BODY_STATUS = {204, 304}


class _Closed(Exception):
    """The other side closed the connection."""


class _Stream:
    """A socket read in HTTP units (heads, lines, counted bytes), with its own buffer."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self) -> bytes | None:
        """Up to and with the blank line; None on a clean end of stream."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buf[: end + 4])
                del self.buf[: end + 4]
                return head
            if len(self.buf) > 1 << 20:
                raise _Closed("HTTP head over 1 MiB")
            if not self._fill():
                if self.buf:
                    raise _Closed("end of stream inside an HTTP head")
                return None

    def read_line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[: end + 2])
                del self.buf[: end + 2]
                return line
            if not self._fill():
                raise _Closed("end of stream inside a chunked body")

    def read_some(self, limit: int) -> bytes:
        """Whatever is there (at most ``limit``), reading once if nothing is; b'' at the end."""
        if not self.buf and not self._fill():
            return b""
        piece = bytes(self.buf[:limit])
        del self.buf[:limit]
        return piece

    def take_buffer(self) -> bytes:
        piece = bytes(self.buf)
        self.buf.clear()
        return piece


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _copy_exact(src: _Stream, count: int, send) -> None:
    while count > 0:
        piece = src.read_some(min(count, 65536))
        if not piece:
            raise _Closed("end of stream inside a body")
        send(piece)
        count -= len(piece)


def _copy_chunked(src: _Stream, send) -> None:
    while True:
        line = src.read_line()
        send(line)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers, up to the blank line
                trailer = src.read_line()
                send(trailer)
                if trailer == b"\r\n":
                    return
        _copy_exact(src, size + 2, send)


def _read_body(src: _Stream, headers: dict[str, str]) -> bytes:
    """A whole body, de-chunked."""
    out = bytearray()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = bytearray()
        _copy_chunked(src, raw.extend)
        pos = 0
        while True:
            end = raw.index(b"\r\n", pos)
            size = int(raw[pos:end].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return bytes(out)
            out += raw[end + 2 : end + 2 + size]
            pos = end + 2 + size + 2
    _copy_exact(src, int(headers.get("content-length", "0")), out.extend)
    return bytes(out)


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Pass bytes both ways until either side ends (hijacked attach/exec streams)."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)
                if not data:
                    return
                key.data.sendall(data)


class LyingDockerd:
    """A proxy on a new unix socket in front of ``host``'s real dockerd: every request
    passes through unchanged, except that the JSON of ``GET [/vX.Y]/info`` gets
    ``info`` deep-merged into it, ``swarm`` into its ``Swarm`` (e.g. ``{"NodeID": ...,
    "NodeAddr": ..., "ControlAvailable": True, "Cluster": {"ID": ...}, "RemoteManagers":
    [...]}``) and ``name`` as its ``Name`` (the hostname). With ``point_minion`` the
    host's salt-minion uses the proxy while the context lasts (``minion_docker_url``).

    ``url`` is the proxy's ``unix://`` URL; ``requests`` lists ``(method, target)`` seen,
    ``lies`` counts rewritten answers, ``connections`` accepted connections, ``errors``
    what went wrong inside the proxy."""

    def __init__(
        self,
        lab,
        host: str,
        *,
        swarm: dict | None = None,
        name: str | None = None,
        info: dict | None = None,
        point_minion: bool = True,
    ):
        self.lab, self.host, self.point_minion = lab, host, point_minion
        self.overrides = copy.deepcopy(info or {})
        if swarm:
            self.overrides.setdefault("Swarm", {})
            _deep_merge(self.overrides["Swarm"], swarm)
        if name is not None:
            self.overrides["Name"] = name
        url = lab.docker_url(host)
        if not url.startswith("unix://"):
            raise ValueError(f"{host}'s dockerd is not on a unix socket: {url}")
        self.upstream = url.removeprefix("unix://")
        self.socket_path = scratch_dir(lab) / f"lying-{host}-{secrets.token_hex(3)}.sock"
        self.url = f"unix://{self.socket_path}"
        self.requests: list[tuple[str, str]] = []
        self.lies = 0
        self.connections = 0
        self.errors: list[BaseException] = []
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._minion = None

    # -- lifecycle
    def start(self) -> LyingDockerd:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket_path.unlink(missing_ok=True)
        server.bind(str(self.socket_path))
        server.listen(32)
        server.settimeout(0.2)
        self._server = server
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server is not None:
            self._server.close()
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> LyingDockerd:
        self.start()
        try:
            if self.point_minion:
                self._minion = minion_docker_url(self.lab, self.host, self.url)
                self._minion.__enter__()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._minion is not None:
                self._minion.__exit__(*exc)  # the minion back on the real dockerd first
        finally:
            self.stop()

    # -- serving
    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self.connections += 1
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        with self._lock:
            self._open.add(client)
        try:
            down = _Stream(client)
            while not self._stop.is_set():
                head = down.read_head()
                if head is None:
                    return
                request_line, req_headers = _parse_head(head)
                method, target = request_line.split(" ")[:2]
                self.requests.append((method, target))
                if upstream is None:
                    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    upstream.connect(self.upstream)
                    with self._lock:
                        self._open.add(upstream)
                    up = _Stream(upstream)
                upstream.sendall(head)
                if "chunked" in req_headers.get("transfer-encoding", "").lower():
                    _copy_chunked(down, upstream.sendall)
                else:
                    _copy_exact(down, int(req_headers.get("content-length", "0")), upstream.sendall)
                if not self._answer(method, target, up, client, upstream, down):
                    return
                keep = req_headers.get("connection", "").lower()
                if keep == "close" or (request_line.endswith("HTTP/1.0") and keep != "keep-alive"):
                    return
        except _Closed:
            return
        except OSError as exc:
            if not self._stop.is_set():
                self.errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - kept for the test to read
            self.errors.append(exc)
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with self._lock:
                        self._open.discard(sock)
                    sock.close()

    def _answer(self, method, target, up: _Stream, client, upstream, down: _Stream) -> bool:
        """Pass one response on (lying if it is /info); False when the connection ends."""
        while True:
            head = up.read_head()
            if head is None:
                return False
            status_line, headers = _parse_head(head)
            status = int(status_line.split(" ")[1])
            if not 100 <= status < 200 or status == 101:
                break
            client.sendall(head)  # 100 Continue and the like: the real answer follows
        path = target.split("?", 1)[0]
        if (
            method == "GET"
            and status == 200
            and _INFO_PATH.match(path)
            and "json" in headers.get("content-type", "")
        ):
            body = self._lie(_read_body(up, headers))
            lines = [
                line
                for line in head.decode("latin-1").split("\r\n")[1:]
                if line
                and line.split(":", 1)[0].strip().lower()
                not in ("content-length", "transfer-encoding")
            ]
            new_head = "\r\n".join([status_line, *lines, f"Content-Length: {len(body)}", "", ""])
            client.sendall(new_head.encode("latin-1") + body)
        else:
            client.sendall(head)
            if method == "HEAD" or status in _NO_BODY_STATUS:
                pass
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                _copy_chunked(up, client.sendall)
            elif "content-length" in headers:
                _copy_exact(up, int(headers["content-length"]), client.sendall)
            else:  # 101 Upgrade, or a raw stream to the end: both ways until one ends
                client.sendall(up.take_buffer())
                upstream.sendall(down.take_buffer())
                _splice(client, upstream)
                return False
        return headers.get("connection", "").lower() != "close"

    def _lie(self, body: bytes) -> bytes:
        info = json.loads(body)
        _deep_merge(info, self.overrides)
        self.lies += 1
        return json.dumps(info).encode() + b"\n"


@contextlib.contextmanager
def minion_docker_url(lab, host: str, url: str, timeout: float = 60):
    """``host``'s salt-minion talks to the dockerd at ``url`` (its ``swarm:docker_url``)
    while the context lasts: restarted with the setting, and again without it after.

    The setting goes into a ``minion.d/`` drop-in, not into the main ``minion`` file:
    ``lab.start_daemon`` writes the main file anew from ``daemons.minion_config``.
    Salt reads ``minion.d/*.conf`` after the main file and the drop-in's ``swarm``
    replaces the main file's (the host's other ``swarm`` settings are copied into it)."""
    conf_dir = lab.paths.host(host).minion_conf_dir
    main = yaml.safe_load((conf_dir / "minion").read_text()) or {}
    swarm = dict(main.get("swarm") or {})
    swarm["docker_url"] = url
    drop_in = conf_dir / "minion.d" / "zz-hostile-docker-url.conf"
    drop_in.parent.mkdir(parents=True, exist_ok=True)
    drop_in.write_text(yaml.safe_dump({"swarm": swarm}, default_flow_style=False))
    try:
        restart_minion(lab, host, timeout)
        yield drop_in
    finally:
        drop_in.unlink(missing_ok=True)
        restart_minion(lab, host, timeout)


def restart_minion(lab, host: str, timeout: float = 60, grace: float = 3) -> None:
    """Restart ``host``'s salt-minion with the lab's own methods, until it answers.

    A salt-minion takes about 9 s to end on SIGTERM here: after ``grace`` s it gets
    SIGKILL (``lab.stop_daemon``'s timeout). Its children are then orphans, reaped by
    pid 1 a moment later; until then a new salt-minion takes the zombie for a running
    instance (Salt 3008's ``process_responsibility_salt-minion.pid`` check: same pid,
    name and start time) and exits at once. So: wait until they are gone, then start.
    The lab's own wait pings with a 5 s timeout and a 10 s ``gather_job_timeout``; a
    ping sent before the new minion listens waits all of it: this waits for the
    minion's start event first, then pings."""
    deadline = time.monotonic() + timeout
    cg = procs.cgroup_root()
    group = cg / host / "minion" if cg else None
    before = (
        [Proc(pid, st) for pid in procs.cgroup_pids(group) if (st := procs.start_time(pid))]
        if group
        else []
    )
    with MasterEvents(lab) as bus:
        lab.stop_daemon(host, "minion", timeout=grace)
        wait_gone_from_proc(before, timeout)
        mark = bus.mark()
        lab.start_daemon(host, "minion", wait=False)
        bus.wait_for(start_event_of(host), deadline - time.monotonic(), since=mark)
    wait_answers(lab, host, deadline - time.monotonic())


def start_event_of(minion_id: str) -> Callable[[dict], bool]:
    """A MasterEvents predicate: the ``salt/minion/<id>/start`` event of ``minion_id``
    (the master sets ``data["id"]`` to the authenticated sender)."""
    tag = f"salt/minion/{minion_id}/start"
    return lambda event: event["tag"] == tag and event["data"]["id"] == minion_id


def wait_gone_from_proc(recorded: list[Proc], timeout: float = 30) -> None:
    """Until none of these processes is left in /proc, zombies included."""
    wait_for(
        lambda: not any(procs.start_time(p.pid) == p.start_time for p in recorded),
        timeout,
        f"pids {[p.pid for p in recorded]} reaped",
        interval=0.1,
    )


def wait_answers(lab, minion_id: str, timeout: float = 60, alive=None) -> None:
    """Until ``minion_id`` answers ``test.ping`` (1 s pings; ``alive()`` false aborts)."""
    from salt.exceptions import SaltClientError

    def answers() -> bool:
        if alive is not None and not alive():
            raise RuntimeError(f"minion {minion_id!r} is no longer running")
        try:
            got = lab.local_client().cmd(
                [minion_id], "test.ping", tgt_type="list", timeout=1, gather_job_timeout=1
            )
        except SaltClientError:
            return False
        return got.get(minion_id) is True

    wait_for(answers, timeout, f"minion {minion_id!r} answering", interval=0.2)


# ---- one more minion in a host ----------------------------------------------------


@dataclass
class ExtraMinion:
    """A salt-minion ``extra_minion`` started; ``conf_dir`` holds its ``minion`` file."""

    id: str
    host: str
    root: Path
    proc: Proc
    cgroup: Path | None

    @property
    def conf_dir(self) -> Path:
        return self.root / "etc" / "salt"

    @property
    def log(self) -> Path:
        return self.root / "minion.out"

    def alive(self) -> bool:
        return procs.alive(self.proc)

    def log_tail(self, chars: int = 3000) -> str:
        text = ""
        for path in (self.log, self.root / "var" / "log" / "salt" / "minion"):
            with contextlib.suppress(OSError):
                text += f"--- {path}\n" + path.read_text(errors="replace")[-chars:]
        return text


@contextlib.contextmanager
def extra_minion(
    lab,
    host: str,
    minion_id: str,
    *,
    config: dict | None = None,
    wait: bool = True,
    timeout: float = 90,
):
    """One more real salt-minion inside ``host``'s network and UTS namespaces, with any
    ``minion_id`` (newlines, YAML, colons, quotes, braces, unicode), its own root_dir
    under the lab folder, ``swarm:docker_url`` on the host's dockerd, ``config`` merged
    over its config. With ``wait``, until the master accepted its key and it answers
    ``test.ping``. Yields an ``ExtraMinion``; after: stopped by pid (and its cgroup),
    key and master cache deleted by file (no ``salt/key`` event), files removed."""
    _as_file_name(minion_id)
    hp = lab.paths.host(host)
    tag = _digest(minion_id)
    root = scratch_dir(lab) / f"minion-{tag}"
    cg = procs.cgroup_root()
    group = cg / host / f"extra-{tag}" if cg else None
    _remove_extra(lab, minion_id, root, group, None)  # what a crashed run left
    conf = daemons.minion_config(host, hp)
    conf.update(id=minion_id, root_dir=str(root))
    _deep_merge(conf, config or {})
    daemons.write_config(root / "etc" / "salt", "minion", conf)
    written = yaml.safe_load((root / "etc" / "salt" / "minion").read_text())
    assert written["id"] == minion_id, (written["id"], minion_id)
    argv = [
        *daemons.in_host(host, hp),
        daemons.salt_script("salt-minion"),
        "-c",
        str(root / "etc" / "salt"),
    ]
    env = dict(os.environ, DOCKER_HOST=hp.docker_url)
    proc = None
    try:
        with MasterEvents(lab) if wait else contextlib.nullcontext() as bus:
            mark = bus.mark() if bus else 0
            proc = procs.spawn(argv, root / "minion.out", cgroup=group, env=env)
            minion = ExtraMinion(minion_id, host, root, proc, group)
            if wait:
                _wait_accepted(lab, minion, timeout, bus, mark)
        yield minion
    finally:
        _remove_extra(lab, minion_id, root, group, proc)


def _wait_accepted(lab, minion: ExtraMinion, timeout: float, bus, mark: int) -> None:
    """Until the master accepted the key, the start event came and the minion answers."""
    accepted = lab.accepted_keys_dir / minion.id
    deadline = time.monotonic() + timeout
    try:
        wait_for(
            lambda: _still_running(minion) and accepted.exists(),
            timeout,
            f"minion {minion.id!r}'s key accepted",
            interval=0.1,
        )
        bus.wait_for(start_event_of(minion.id), deadline - time.monotonic(), since=mark)
        wait_answers(lab, minion.id, deadline - time.monotonic(), alive=minion.alive)
    except (WaitTimeout, RuntimeError) as exc:
        raise WaitTimeout(
            f"{exc}; key accepted: {accepted.exists()}\n{minion.log_tail()}"
        ) from None


def _still_running(minion: ExtraMinion) -> bool:
    if not minion.alive():
        raise RuntimeError(f"minion {minion.id!r} exited")
    return True


def _remove_extra(lab, minion_id, root: Path, group: Path | None, proc: Proc | None) -> None:
    left = procs.stop([proc], timeout=3) if proc else []  # SIGTERM takes ~9 s
    if group is not None:
        procs.remove_cgroup(group)  # kills what is left in it (and waits)
    if proc:
        procs.wait_reaped([proc])
        if left and procs.alive(proc):
            raise RuntimeError(f"extra minion {minion_id!r} (pid {proc.pid}) did not stop")
    forget_minion(lab, minion_id)
    shutil.rmtree(root, ignore_errors=True)


# ---- a pending key ----------------------------------------------------------------


def rsa_public_pem(bits: int = 2048) -> str:
    """A fresh RSA public key in PEM (SubjectPublicKeyInfo), as a minion's ``minion.pub``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def list_keys(lab) -> dict[str, list[str]]:
    """``salt-key -L --out=json``: ``{"minions": [...], "minions_pre": [...], ...}``."""
    res = lab.salt_key("-L", "--out=json")
    if res.returncode != 0:
        raise RuntimeError(f"salt-key -L failed: {res.stdout}{res.stderr}")
    return json.loads(res.stdout)


class PendingKey:
    """A pending key request on the master (``minions_pre/<id>``), as a host that
    registered but was never accepted leaves one. Usable as a context manager (removed
    by file on exit if still there) or by hand (``remove()``)."""

    def __init__(self, lab, minion_id: str, pem: str | None = None):
        self.lab, self.id = lab, minion_id
        self.pem = pem or rsa_public_pem()
        self.path = master_pki_dir(lab) / "minions_pre" / _as_file_name(minion_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.pem)

    def listed(self) -> bool:
        """Whether ``salt-key -L`` lists it as pending."""
        return self.id in list_keys(self.lab).get("minions_pre", [])

    def delete_as_operator(self) -> subprocess.CompletedProcess:
        """``salt-key -d <id> -y``, as an operator would type it (a glob to Salt: ``*?[``
        and ``,`` in the id match other keys; it fires ``salt/key`` and rotates the
        master's AES key)."""
        return self.lab.salt_key("-d", self.id, "-y")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> PendingKey:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def pending_key(lab, minion_id: str, pem: str | None = None) -> PendingKey:
    """Put a pending key request with ``minion_id`` (a real RSA public key, or ``pem``)
    on the master; see ``PendingKey``."""
    return PendingKey(lab, minion_id, pem)


# ---- the master's event bus -------------------------------------------------------

_MASTER_OPTS: dict[str, dict] = {}


def master_opts(lab) -> dict:
    """The lab master's opts, read from its config file (cached per file)."""
    import salt.config

    path = lab.master_config_file
    if path not in _MASTER_OPTS:
        _MASTER_OPTS[path] = salt.config.master_config(path)
    return copy.deepcopy(_MASTER_OPTS[path])


class MasterEvents:
    """Collects every event on the lab master's bus, in a thread, while the context
    lasts. ``events`` is the list of ``{"tag": ..., "data": ...}`` seen so far; on
    entering, it waits until an event it fires itself comes back, so nothing fired
    after ``__enter__`` is missed."""

    def __init__(self, lab, ready_timeout: float = 20):
        self.lab = lab
        self.ready_timeout = ready_timeout
        self.events: list[dict] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._opts = None

    def __enter__(self) -> MasterEvents:
        self._opts = master_opts(self.lab)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()
        if not self._ready.wait(self.ready_timeout) or self._error:
            self.__exit__(None, None, None)
            raise RuntimeError(f"could not listen on the master's event bus: {self._error}")
        marker = f"salt-swarm/hostile/listening/{secrets.token_hex(6)}"
        deadline = time.monotonic() + self.ready_timeout
        while True:
            self.fire(marker, {})
            try:
                self.wait_for(marker, timeout=min(1.0, max(deadline - time.monotonic(), 0.01)))
                return self
            except WaitTimeout:
                if time.monotonic() >= deadline:
                    self.__exit__(None, None, None)
                    raise

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _listen(self) -> None:
        import salt.utils.event

        try:
            bus = salt.utils.event.get_master_event(self._opts, self._opts["sock_dir"], listen=True)
        except BaseException as exc:  # noqa: BLE001 - reported by __enter__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                got = bus.get_event(wait=0.2, full=True, auto_reconnect=True)
                if got:
                    with self._cond:
                        self.events.append(got)
                        self._cond.notify_all()
        finally:
            bus.destroy()

    def fire(self, tag: str, data: dict) -> None:
        """Fire an event on the master's bus as the master itself (not as a minion)."""
        import salt.utils.event

        with salt.utils.event.get_master_event(
            self._opts, self._opts["sock_dir"], listen=False
        ) as bus:
            bus.fire_event(data, tag)

    def mark(self) -> int:
        """A position in ``events``: pass it as ``since`` to look only at later ones."""
        with self._cond:
            return len(self.events)

    @staticmethod
    def _predicate(match) -> Callable[[dict], bool]:
        if callable(match):

            def check(event: dict) -> bool:
                try:
                    return bool(match(event))
                except (KeyError, IndexError, TypeError, AttributeError):
                    return False  # an event of another shape

            return check
        return lambda event: fnmatch.fnmatchcase(event["tag"], match)

    def matching(self, match, since: int = 0) -> list[dict]:
        """Every event so far (from ``since``) whose tag matches the glob ``match`` (or
        for which the predicate ``match(event)`` is true)."""
        check = self._predicate(match)
        with self._cond:
            return [e for e in self.events[since:] if check(e)]

    def wait_for(self, match, timeout: float = 30, since: int = 0) -> dict:
        """The first event (from ``since``) whose tag matches the glob ``match`` or for
        which the predicate ``match(event)`` is true; waits up to ``timeout`` s, then
        raises WaitTimeout listing the tags seen."""
        check = self._predicate(match)
        deadline = time.monotonic() + timeout
        with self._cond:
            pos = since
            while True:
                while pos < len(self.events):
                    if check(self.events[pos]):
                        return self.events[pos]
                    pos += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e["tag"] for e in self.events[since:]][-60:]
                    raise WaitTimeout(
                        f"no event matching {match!r} within {timeout:g} s; seen: {seen!r}"
                    )
                self._cond.wait(left)


# ---- events and mine data as a minion ---------------------------------------------


def _who(lab, sender) -> tuple[str, Path]:
    """(host, minion config folder) of a lab host name or an ExtraMinion."""
    if isinstance(sender, ExtraMinion):
        return sender.host, sender.conf_dir
    return sender, lab.paths.host(sender).minion_conf_dir


def _spellings(value) -> list[str]:
    """Ways to write ``value`` on a command line for Salt's YAML argument parsing."""
    found = [value] if isinstance(value, str) else []
    found += [json.dumps(value, ensure_ascii=False), json.dumps(value)]
    for unicode in (True, False):
        dumped = yaml.safe_dump(
            value, default_flow_style=True, default_style='"', width=1 << 30, allow_unicode=unicode
        )
        found.append(dumped.removesuffix("\n").removesuffix("\n...").strip())
    return list(dict.fromkeys(found))


def _as_salt_call_reads_it(word: str, params: list[str]) -> tuple[list, dict]:
    """What salt-call makes of one argument word: its parse_input, then the minion's
    load_args_and_kwargs (which parses ``key=value`` in positional strings again)."""
    import inspect

    import salt.minion
    import salt.utils.args

    def stub(*args, **kwargs):  # a function with exactly these parameters
        raise NotImplementedError

    stub.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params]
    )
    with contextlib.suppress(Exception):
        return salt.minion.load_args_and_kwargs(stub, salt.utils.args.parse_input([word]))
    return [object()], {}


def salt_call_words(params: list[str], values: list) -> list[str]:
    """Argument words for ``salt-call <fun> <words>`` that salt-call turns back into
    exactly ``values`` for the function's first parameters ``params``: ``name=<value>``
    where a spelling survives YAML parsing that way, else positional (a raw string
    with a newline is kept as it is, but only as a positional word; put ``--`` before
    the function name, so a word starting with ``-`` is no option). ValueError if no
    spelling gives a value back."""
    for positional in range(len(values) + 1):
        words = []
        for index, (name, value) in enumerate(zip(params, values, strict=True)):
            want = ([value], {}) if index < positional else ([], {name: value})
            prefix = "" if index < positional else f"{name}="
            word = next(
                (
                    prefix + spelling
                    for spelling in _spellings(value)
                    if _same(_as_salt_call_reads_it(prefix + spelling, params), want)
                ),
                None,
            )
            if word is None:
                break
            words.append(word)
        else:
            return words
    raise ValueError(f"no salt-call spelling gives back {values!r}")


def salt_call_as(lab, sender, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``salt-call`` inside the host, with the config of ``sender`` (a lab host name, or
    an ExtraMinion: then as that minion, with its id and key)."""
    host, conf_dir = _who(lab, sender)
    hp = lab.paths.host(host)
    argv = [
        *daemons.in_host(host, hp),
        daemons.salt_script("salt-call"),
        "-c",
        str(conf_dir),
        *args,
    ]
    env = dict(os.environ, DOCKER_HOST=hp.docker_url)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def fire_from(lab, sender, tag: str, data, preload: dict | None = None, timeout: float = 120):
    """Fire an event to the master as ``sender``'s minion (a lab host name, or an
    ExtraMinion): ``salt-call event.fire_master`` inside the host, ``tag`` and ``data``
    passed so that they arrive exactly as given. Returns the CompletedProcess (stdout:
    ``{"local": true}`` when the master took the request)."""
    params, values = ["data", "tag"], [data, tag]
    if preload is not None:
        params.append("preload")
        values.append(preload)
    words = salt_call_words(params, values)
    return salt_call_as(
        lab, sender, "--out=json", "--", "event.fire_master", *words, timeout=timeout
    )


def fire_events_from(lab, sender, events: list[tuple[str, dict]], timeout: float = 120):
    """Fire several events to the master as ``sender``'s minion in one request, the way
    a syndic forwards events (``event.fire_master`` with ``preload={"events": [...]}``).

    Unlike ``fire_from``, each event's data reaches the bus exactly as given (only
    ``_stamp`` added): Salt 3008.4 puts no ``id`` of the sender in it, so ``data["id"]``
    may name any minion. Tags on the master's blacklist (``salt/key``, ``salt/run/*``,
    ``salt/job/*/new|publish|return``, ...) are dropped on this path (and only on it).
    Returns the CompletedProcess."""
    batch = [{"tag": tag, "data": data} for tag, data in events]
    return fire_from(
        lab, sender, "salt-swarm/hostile/carrier", {}, preload={"events": batch}, timeout=timeout
    )


# A minion's own mine store, as mine.send makes it (salt/modules/mine.py _mine_store),
# but sent straight through the minion's request channel: with the minion's id and key,
# any value under any name, and the master's answer back.
_SEND_MINE = r"""
import json, sys
import salt.channel.client, salt.config, salt.minion
conf_dir, alias = sys.argv[1], sys.argv[2]
value = json.loads(sys.stdin.read())
opts = salt.config.minion_config(conf_dir + "/minion")
opts.update(salt.minion.resolve_dns(opts))
load = {"cmd": "_mine", "id": opts["id"], "data": {alias: value}, "clear": False}
with salt.channel.client.ReqChannel.factory(opts, crypt="aes") as channel:
    answer = channel.send(load, timeout=30)
print(json.dumps(answer))
"""


def send_mine(lab, sender, function_alias: str, value, timeout: float = 120):
    """Store ``value`` (anything JSON can hold) in the master's mine under
    ``function_alias`` for ``sender``'s minion (a lab host name, or an ExtraMinion), as
    a compromised minion can: a raw ``_mine`` load (what ``mine.send`` sends) through the
    minion's request channel, run inside the host with the minion's config and key.
    Returns the master's answer (``True`` when stored); raises if the send failed."""
    host, conf_dir = _who(lab, sender)
    hp = lab.paths.host(host)
    argv = [
        *daemons.in_host(host, hp),
        sys.executable,
        "-c",
        _SEND_MINE,
        str(conf_dir),
        function_alias,
    ]
    res = subprocess.run(
        argv, input=json.dumps(value), capture_output=True, text=True, timeout=timeout
    )
    if res.returncode != 0:
        raise RuntimeError(f"mine send failed ({res.returncode}): {res.stdout}{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def master_mine(lab, minion_id: str) -> dict:
    """What the master's mine holds for ``minion_id`` (read from its cache, no targeting)."""
    from salt_swarm import salt_internals

    return salt_internals.cached_mine(master_opts(lab), [minion_id]).get(minion_id, {})


# ---- what an attack must not have done --------------------------------------------


class Canary:
    """A unique file path that an injected command would create (``command`` is
    ``touch <path>``). The hosts share the machine's filesystem (their namespaces are
    network and UTS only), so a command run on any host or on the master trips it."""

    def __init__(self, lab, label: str = "canary"):
        self.path = scratch_dir(lab) / f"{label}-{secrets.token_hex(8)}"
        self.path.unlink(missing_ok=True)

    @property
    def command(self) -> str:
        return f"touch {shlex.quote(str(self.path))}"

    def tripped(self) -> bool:
        return self.path.exists()

    def __enter__(self) -> Canary:
        return self

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def fingerprint(lab, host: str) -> dict:
    """What must not change on ``host``'s dockerd after an attack: its swarm state
    (``swarm``: LocalNodeState, NodeID, ControlAvailable, ClusterID) and, on a manager,
    ``nodes``: node id -> hostname, role, availability, labels and ``status`` (state,
    address, leader, reachability: may change with time; ``without_status`` drops it).
    ``nodes`` is None where the host is no manager."""
    client = lab.docker_client(host)
    try:
        swarm = client.api.info().get("Swarm") or {}
        print_ = {
            "swarm": {
                "LocalNodeState": swarm.get("LocalNodeState"),
                "NodeID": swarm.get("NodeID"),
                "ControlAvailable": bool(swarm.get("ControlAvailable")),
                "ClusterID": (swarm.get("Cluster") or {}).get("ID"),
            },
            "nodes": None,
        }
        if swarm.get("ControlAvailable"):
            print_["nodes"] = {node["ID"]: _node_print(node) for node in client.api.nodes()}
        return print_
    finally:
        client.close()


def _node_print(node: dict) -> dict:
    spec = node.get("Spec") or {}
    status = node.get("Status") or {}
    manager = node.get("ManagerStatus") or {}
    return {
        "hostname": (node.get("Description") or {}).get("Hostname"),
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "labels": dict(spec.get("Labels") or {}),
        "status": {
            "state": status.get("State"),
            "addr": status.get("Addr"),
            "leader": bool(manager.get("Leader")),
            "reachability": manager.get("Reachability"),
        },
    }


def without_status(print_: dict) -> dict:
    """A fingerprint without the parts that may change with time (each node's ``status``)."""
    out = copy.deepcopy(print_)
    for node in (out.get("nodes") or {}).values():
        node.pop("status", None)
    return out
