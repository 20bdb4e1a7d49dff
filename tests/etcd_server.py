"""A real etcd for tests: Debian's ``etcd`` (package etcd-server) with free ports and a
temp data dir, started by the test and stopped by pid. Without the binary the tests
skip, unless SALT_SWARM_REQUIRE_LAB is set (CI), where they fail."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.etcd_client import EtcdClient


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EtcdServer:
    """One etcd member on ``host`` (loopback by default; the lab's bridge address for
    lab hosts); ``stop`` ends exactly the process it started."""

    def __init__(
        self, binary, workdir: Path, tls: dict | None = None, extra=(), host: str = "127.0.0.1"
    ):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{host}:{free_port(host)}"
        peer = f"http://127.0.0.1:{free_port()}"
        args = [
            binary,
            "--name=t",
            f"--data-dir={self.dir / 'data'}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=t={peer}",
            *extra,
        ]
        if tls:
            args += [
                f"--cert-file={tls['server_cert']}",
                f"--key-file={tls['server_key']}",
                f"--trusted-ca-file={tls['ca']}",
                "--client-cert-auth",
            ]
        self.log = open(self.dir / "etcd.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, client: EtcdClient, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"etcd exited {self.proc.returncode}: see {self.log.name}")
            try:
                client.get("readiness-probe")
                return
            except SwarmError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="session")
def etcd_binary():
    binary = shutil.which("etcd")
    if binary:
        return binary
    reason = "etcd is not installed (Debian package etcd-server)"
    if os.environ.get("SALT_SWARM_REQUIRE_LAB", "") not in ("", "0"):
        pytest.fail(f"etcd required (SALT_SWARM_REQUIRE_LAB is set): {reason}")
    pytest.skip(reason)
