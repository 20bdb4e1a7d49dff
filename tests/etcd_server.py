"""A real etcd for tests: Debian's ``etcd`` (package etcd-server) with free ports and a
temp data dir, started by the test and stopped by pid. Without the binary the tests
skip, unless SALT_SWARM_REQUIRE_LAB is set (CI), where they fail.

Also: TLS files for such a server (``make_tls_files``), and etcd auth with the users
and roles docs/token-store.md tells operators to create (``enable_auth``,
``add_store_roles``), done through the JSON gateway one etcdctl command at a time.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
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
    lab hosts); ``stop`` ends exactly the process it started. ``tls`` (from
    ``make_tls_files``) serves https; with ``client_cert_auth`` etcd also wants a
    client certificate."""

    def __init__(
        self,
        binary,
        workdir: Path,
        tls: dict | None = None,
        extra=(),
        host: str = "127.0.0.1",
        client_cert_auth: bool = True,
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
            args += [f"--cert-file={tls['server_cert']}", f"--key-file={tls['server_key']}"]
            if client_cert_auth:
                # etcd asks for a client certificate whenever it has a trusted CA file.
                args += [f"--trusted-ca-file={tls['ca']}", "--client-cert-auth"]
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


# -- TLS ------------------------------------------------------------------------------


def make_tls_files(base: Path, ip: str = "127.0.0.1") -> dict:
    """A test CA, a server certificate for ``ip`` and a client certificate, as files in
    ``base``: {ca, server_cert, server_key, client_cert, client_key}."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(stem, key, cert):
        (base / f"{stem}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (base / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return str(base / f"{stem}.pem"), str(base / f"{stem}.key")

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("salt-swarm test CA"))
        .issuer_name(name("salt-swarm test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(cn, usages):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return key, cert

    ca_pem, _ = write("ca", ca_key, ca)
    # etcd's own gateway dials the gRPC port with the server certificate as a client
    # certificate, so the server certificate needs clientAuth too.
    both = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    server_cert, server_key = write("server", *leaf(ip, both))
    client_cert, client_key = write("client", *leaf("swarm", [ExtendedKeyUsageOID.CLIENT_AUTH]))
    return {
        "ca": ca_pem,
        "server_cert": server_cert,
        "server_key": server_key,
        "client_cert": client_cert,
        "client_key": client_key,
    }


# -- auth: the users and roles of docs/token-store.md -----------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _prefix_end(prefix: str) -> str:
    return b64(prefix[:-1] + chr(ord(prefix[-1]) + 1))


def enable_auth(admin: EtcdClient, root_password: str) -> None:
    """etcdctl user add root; etcdctl auth enable."""
    admin.call("/v3/auth/user/add", {"name": "root", "password": root_password})
    admin.call("/v3/auth/user/grant", {"user": "root", "role": "root"})
    admin.call("/v3/auth/enable", {})


def add_role(admin: EtcdClient, role: str, grants) -> None:
    """etcdctl role add <role>; one grant-permission per (perm, key, is_prefix)."""
    admin.call("/v3/auth/role/add", {"name": role})
    for perm, key, prefix in grants:
        entry = {"key": b64(key), "permType": perm.upper()}
        if prefix:
            entry["range_end"] = _prefix_end(key)
        admin.call("/v3/auth/role/grant", {"name": role, "perm": entry})


def add_user(admin: EtcdClient, user: str, password: str, role: str) -> None:
    """etcdctl user add <user>; etcdctl user grant-role <user> <role>."""
    admin.call("/v3/auth/user/add", {"name": user, "password": password})
    admin.call("/v3/auth/user/grant", {"user": user, "role": role})


def add_store_roles(admin: EtcdClient, path: str, manager: tuple, worker: tuple) -> None:
    """The token store's two roles on ``path`` (the full etcd key of the store's path,
    profile prefix included, ending in /), exactly as docs/token-store.md gives them:

        etcdctl role grant-permission swarm-manager readwrite <path> --prefix=true
        etcdctl role grant-permission swarm-worker read <path>worker_token
        etcdctl role grant-permission swarm-worker read <path>managers
        etcdctl role grant-permission swarm-worker readwrite <path>labels/ --prefix=true

    ``manager`` and ``worker`` are (user, password); the roles take the user's name.
    """
    assert path.endswith("/")
    add_role(admin, manager[0], [("readwrite", path, True)])
    add_role(
        admin,
        worker[0],
        [
            ("read", path + "worker_token", False),
            ("read", path + "managers", False),
            ("readwrite", path + "labels/", True),
        ],
    )
    add_user(admin, *manager, role=manager[0])
    add_user(admin, *worker, role=worker[0])
