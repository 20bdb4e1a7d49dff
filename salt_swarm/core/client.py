"""Build a Docker SDK client from settings resolved by the loader modules.

The client is built per call, never at import time: the daemon may not be up when
Salt loads the module, and settings may come from pillar that changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import docker
import docker.errors
import docker.tls
import requests

from salt_swarm.core.errors import DockerUnavailable, SwarmError
from salt_swarm.core.settings import default as setting_default

log = logging.getLogger(__name__)

DEFAULT_URL = "unix:///var/run/docker.sock"
DEFAULT_TIMEOUT = setting_default("timeout")
_WARNED_PLAIN: set[str] = set()  # tcp URLs already warned about, once per process


@dataclass(frozen=True)
class DockerSettings:
    """Where and how to reach the Docker daemon.

    ``url`` empty means: ``DOCKER_HOST`` from the environment if set, else the
    local socket. TLS is used when a client certificate or a CA is given.
    ``tls_verify``: None (not set) checks the daemon's certificate whenever TLS is
    used; True says so explicitly and then needs ``tls_ca`` (as Docker's own
    ``--tlsverify`` does), never falling back to plain TCP; False skips the check.
    """

    url: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""
    tls_verify: bool | None = None
    timeout: int = DEFAULT_TIMEOUT

    def resolved_url(self, environ: dict | None = None) -> str:
        env = os.environ if environ is None else environ
        return self.url or env.get("DOCKER_HOST") or DEFAULT_URL

    def tls_config(self) -> docker.tls.TLSConfig | None:
        if self.tls_verify is True and not self.tls_ca:
            raise DockerUnavailable(
                "swarm:tls_verify is true but swarm:tls_ca is not set: give the CA that "
                "signed the Docker daemon's certificate (swarm:tls_ca), or leave "
                "swarm:tls_verify unset; the daemon is not reached without it"
            )
        if not (self.tls_cert or self.tls_ca):
            return None
        if bool(self.tls_cert) != bool(self.tls_key):
            raise DockerUnavailable("swarm:tls_cert and swarm:tls_key must be given together")
        return docker.tls.TLSConfig(
            client_cert=(self.tls_cert, self.tls_key) if self.tls_cert else None,
            ca_cert=self.tls_ca or None,
            verify=(self.tls_ca or True) if self.tls_verify is not False else False,
        )


def make_client(settings: DockerSettings) -> docker.DockerClient:
    """Return a connected client, or raise DockerUnavailable naming the URL."""
    url = settings.resolved_url()
    try:
        tls = settings.tls_config()
        if tls is None:
            warn_if_plain_tcp(url)
        # Building the client asks the daemon for its API version: that call is the
        # reachability check, no separate ping needed.
        client = docker.DockerClient(base_url=url, tls=tls or False, timeout=settings.timeout)
    except DockerUnavailable:
        raise
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise DockerUnavailable(f"cannot reach the Docker daemon at {url}: {exc}") from exc
    return client


def warn_if_plain_tcp(url: str) -> bool:
    """Log (once per URL and process) that a TCP Docker API without TLS is open to
    anyone who can reach it; True if ``url`` is such a URL."""
    if not url.startswith(("tcp://", "http://")):
        return False
    if url not in _WARNED_PLAIN:
        _WARNED_PLAIN.add(url)
        log.warning(
            "swarm: the Docker API at %s is reached over plain TCP without TLS: it is "
            "unauthenticated, and anyone who can reach it controls that daemon and its "
            "swarm; set swarm:tls_ca, swarm:tls_cert and swarm:tls_key (docs/reference.md)",
            url,
        )
    return True


@contextmanager
def docker_errors(action: str) -> Iterator[None]:
    """Turn Docker SDK and transport errors into SwarmError, keeping Docker's words."""
    try:
        yield
    except docker.errors.APIError as exc:
        detail = exc.explanation or str(exc)
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise SwarmError(f"{action} failed: {detail}") from exc
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise DockerUnavailable(f"{action} failed: {exc}") from exc
