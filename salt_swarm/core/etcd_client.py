"""A small etcd v3 client over etcd's JSON gateway (HTTP or HTTPS), standard library only.

Keys and values travel base64-encoded, as the gateway wants. Values are stored as JSON
text so dicts and lists round-trip; a value someone wrote as plain text (etcdctl put)
comes back as that text. Every error is a ``SwarmError`` naming the URL and etcd's own
message; a password never appears in one.

Leases (``/v3/lease/grant``, ``keepalive``, ``revoke``) let a key live only as long as
its writer keeps the lease alive: the token store's election record uses one.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from salt_swarm.core.errors import SwarmError

DEFAULT_TIMEOUT = 5.0
PROFILE_OPTIONS = (
    "url",
    "urls",
    "prefix",
    "username",
    "password",
    "ca_file",
    "cert_file",
    "key_file",
    "verify",
    "timeout",
)


@dataclass(frozen=True)
class Entry:
    """One key as etcd holds it: the decoded value and the revision of its last change."""

    value: Any
    mod_revision: int


def encode_value(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def decode_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


class EtcdClient:
    def __init__(
        self,
        urls,
        prefix: str = "",
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        verify: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        store: str | None = None,
    ):
        self.urls = [u.rstrip("/") for u in urls]
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.username = username
        self._password = password
        self.ca_file = ca_file
        self.cert_file = cert_file
        self.key_file = key_file
        self.verify = verify
        self.timeout = timeout
        self._tokens: dict[str, str] = {}
        self._ssl: ssl.SSLContext | None = None
        self.store = store  # the sdb:// store this client serves, named in its errors

    def __repr__(self):
        return f"EtcdClient(urls={self.urls!r}, prefix={self.prefix!r}, username={self.username!r})"

    @classmethod
    def from_profile(
        cls, profile: dict, where: str = "etcd profile", store: str | None = None
    ) -> EtcdClient:
        """Build a client from an sdb profile; ``where`` names the profile in errors about
        the profile, ``store`` (the ``sdb://`` store it serves) those about etcd."""
        profile = {k: v for k, v in (profile or {}).items() if k != "driver"}
        unknown = sorted(set(profile) - set(PROFILE_OPTIONS))
        if unknown:
            raise SwarmError(
                f"{where}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(PROFILE_OPTIONS)}"
            )
        urls = profile.get("urls", profile.get("url"))
        if isinstance(urls, str):
            urls = [urls]
        if not urls or not isinstance(urls, list):
            raise SwarmError(
                f"{where}: url (or urls, a list) is required, e.g. http://127.0.0.1:2379"
            )
        for url in urls:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise SwarmError(f"{where}: url {url!r} must start with http:// or https://")
        if profile.get("password"):
            key = "urls" if "urls" in profile else "url"
            for url in urls:
                if url.startswith("http://") and not is_loopback_url(url):
                    raise SwarmError(
                        f"{where}: {key} {url!r} is plain http, so the password would cross "
                        "the network in clear: use an https:// URL (plain http with a "
                        "username and password is allowed only to a loopback address, "
                        "127.0.0.0/8 or ::1)"
                    )
        for field in ("prefix", "username", "password", "ca_file", "cert_file", "key_file"):
            if profile.get(field) is not None and not isinstance(profile[field], str):
                raise SwarmError(f"{where}: {field} must be a string")
        if bool(profile.get("username")) != bool(profile.get("password")):
            raise SwarmError(f"{where}: username and password go together")
        if profile.get("key_file") and not profile.get("cert_file"):
            raise SwarmError(f"{where}: key_file needs cert_file")
        verify = profile.get("verify", True)
        if not isinstance(verify, bool):
            raise SwarmError(f"{where}: verify must be true or false")
        timeout = profile.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise SwarmError(f"{where}: timeout must be a positive number of seconds")
        return cls(
            urls,
            prefix=profile.get("prefix") or "",
            username=profile.get("username"),
            password=profile.get("password"),
            ca_file=profile.get("ca_file"),
            cert_file=profile.get("cert_file"),
            key_file=profile.get("key_file"),
            verify=verify,
            timeout=float(timeout),
            store=store,
        )

    # -- key-value operations -------------------------------------------------------

    def get(self, key: str):
        entry = self.get_entry(key)
        return None if entry is None else entry.value

    def get_entry(self, key: str) -> Entry | None:
        reply = self.call("/v3/kv/range", {"key": self._key(key)})
        kvs = reply.get("kvs") or []
        return self._entry(key, kvs[0]) if kvs else None

    def get_prefix(self, prefix: str) -> dict[str, Entry]:
        """Every key that starts with ``prefix``: {the rest of the key: its entry}."""
        full = self._full(prefix).encode()
        body = {"key": base64.b64encode(full).decode(), "range_end": _range_end(full)}
        found = {}
        for kv in self.call("/v3/kv/range", body).get("kvs") or []:
            name = base64.b64decode(kv.get("key", "")).decode("utf-8", "replace")
            rest = name[len(full.decode()) :]
            found[rest] = self._entry(prefix + rest, kv)
        return found

    def put(self, key: str, value, lease: int | None = None) -> None:
        body = {"key": self._key(key), "value": self._value(value)}
        if lease:
            body["lease"] = str(lease)
        self.call("/v3/kv/put", body)

    def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        reply = self.call("/v3/kv/deleterange", {"key": self._key(key)})
        return int(reply.get("deleted", 0)) > 0

    def create(
        self, key: str, value, lease: int | None = None, unless: tuple = ()
    ) -> tuple[bool, Any]:
        """Put ``value`` only if ``key`` does not exist yet (nor any key in ``unless``),
        in one transaction; with ``lease``, the key lives only as long as that lease.

        Returns (won, current): whether this call wrote it, and the value now at ``key``.
        """
        compare = [self._absent(k) for k in (key, *unless)]
        return self._txn(key, compare, value, lease)

    def replace(
        self, key: str, mod_revision: int, value, lease: int | None = None
    ) -> tuple[bool, Any]:
        """Put ``value`` only if ``key`` was last changed at ``mod_revision`` (compare-and-swap)."""
        return self._txn(key, [self._unchanged(key, mod_revision)], value, lease)

    def delete_if(self, key: str, mod_revision: int) -> bool:
        """Remove ``key`` only if it was last changed at ``mod_revision``; True if removed."""
        reply = self.call(
            "/v3/kv/txn",
            {
                "compare": [self._unchanged(key, mod_revision)],
                "success": [{"request_delete_range": {"key": self._key(key)}}],
            },
        )
        return bool(reply.get("succeeded"))

    def put_all(self, values: dict, lease_of: tuple[str, int] | None = None) -> bool:
        """Put every ``key: value`` in one transaction; with ``lease_of=(key, lease)`` only
        while that key still lives on that lease (False, nothing written, otherwise)."""
        compare = []
        if lease_of:
            compare.append(
                {
                    "key": self._key(lease_of[0]),
                    "target": "LEASE",
                    "result": "EQUAL",
                    "lease": str(lease_of[1]),
                }
            )
        success = [
            {"request_put": {"key": self._key(k), "value": self._value(v)}}
            for k, v in values.items()
        ]
        reply = self.call("/v3/kv/txn", {"compare": compare, "success": success})
        return bool(reply.get("succeeded"))

    def _txn(self, key: str, compare: list, value, lease: int | None) -> tuple[bool, Any]:
        k = self._key(key)
        put = {"key": k, "value": self._value(value)}
        if lease:
            put["lease"] = str(lease)
        reply = self.call(
            "/v3/kv/txn",
            {
                "compare": compare,
                "success": [{"request_put": put}],
                "failure": [{"request_range": {"key": k}}],
            },
        )
        # The gateway leaves out false booleans: no "succeeded" means the compare failed.
        if reply.get("succeeded"):
            return True, value
        responses = reply.get("responses") or [{}]
        kvs = (responses[0].get("response_range") or {}).get("kvs") or []
        return False, self._entry(key, kvs[0]).value if kvs else None

    def _absent(self, key: str) -> dict:
        return {
            "key": self._key(key),
            "target": "CREATE",
            "result": "EQUAL",
            "create_revision": "0",
        }

    def _unchanged(self, key: str, mod_revision: int) -> dict:
        return {
            "key": self._key(key),
            "target": "MOD",
            "result": "EQUAL",
            "mod_revision": str(mod_revision),
        }

    # -- leases ---------------------------------------------------------------------

    def grant_lease(self, ttl: float) -> int:
        """A new lease of ``ttl`` seconds (rounded up; etcd may raise it to its minimum)."""
        reply = self.call("/v3/lease/grant", {"TTL": str(max(1, math.ceil(ttl)))})
        try:
            return int(reply["ID"])
        except (KeyError, TypeError, ValueError):
            raise SwarmError("etcd /v3/lease/grant: the answer holds no lease ID") from None

    def keepalive(self, lease: int) -> int:
        """Renew ``lease``; its seconds left afterwards, 0 when it is gone (expired, revoked)."""
        reply = self.call("/v3/lease/keepalive", {"ID": str(lease)})
        result = reply.get("result") if isinstance(reply.get("result"), dict) else reply
        try:
            return max(0, int(result.get("TTL") or 0))
        except (TypeError, ValueError):
            return 0

    def revoke_lease(self, lease: int) -> bool:
        """End ``lease`` and delete every key on it; False when it was already gone."""
        try:
            self.call("/v3/lease/revoke", {"ID": str(lease)})
        except SwarmError as exc:
            if "lease not found" in str(exc):
                return False
            raise
        return True

    # -- wire format ----------------------------------------------------------------

    def _full(self, key: str) -> str:
        return self.prefix + key.lstrip("/") if self.prefix else key

    def _key(self, key: str) -> str:
        return base64.b64encode(self._full(key).encode()).decode()

    @staticmethod
    def _value(value) -> str:
        return base64.b64encode(encode_value(value).encode()).decode()

    def _entry(self, key: str, kv: dict) -> Entry:
        try:
            text = base64.b64decode(kv.get("value", "")).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise SwarmError(f"etcd key {self.prefix + key!r}: value is not UTF-8 text") from exc
        return Entry(decode_value(text), int(kv.get("mod_revision", 0)))

    # -- transport ------------------------------------------------------------------

    def call(self, endpoint: str, body: dict) -> dict:
        """POST ``body`` to the first URL that answers; an HTTP error from etcd is final."""
        failures = []
        for url in self.urls:
            try:
                return self._call_authenticated(url, endpoint, body)
            except _Unreachable as exc:
                failures.append(f"{url} ({exc})")
            except _EtcdAnswer as exc:
                raise exc.error() from None
        store = f"{self.store}: " if self.store else ""
        raise SwarmError(f"{store}etcd unreachable: {'; '.join(failures)}")

    def _call_authenticated(self, url: str, endpoint: str, body: dict) -> dict:
        if not self.username:
            return self._post(url, endpoint, body, None)
        if url not in self._tokens:
            self._tokens[url] = self._authenticate(url)
        try:
            return self._post(url, endpoint, body, self._tokens[url])
        except _EtcdAnswer as exc:
            # Simple tokens expire (etcd's --auth-token-ttl, 300 s by default): log in again once.
            if "invalid auth token" not in exc.message:
                raise
        self._tokens[url] = self._authenticate(url)
        return self._post(url, endpoint, body, self._tokens[url])

    def _authenticate(self, url: str) -> str:
        body = {"name": self.username, "password": self._password}
        try:
            reply = self._post(url, "/v3/auth/authenticate", body, None)
        except _EtcdAnswer as exc:
            raise SwarmError(
                f"etcd {url}: login as user {self.username!r} failed: {exc.message}"
            ) from None
        token = reply.get("token")
        if not token:
            raise SwarmError(f"etcd {url}: login as user {self.username!r} returned no token")
        return token

    def _post(self, url: str, endpoint: str, body: dict, token: str | None) -> dict:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = token
        request = urllib.request.Request(
            url + endpoint, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        context = self._ssl_context(url) if url.startswith("https://") else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise _EtcdAnswer(url + endpoint, exc.code, _error_message(exc)) from None
        except urllib.error.URLError as exc:
            raise _Unreachable(_reason(exc.reason, self.timeout)) from None
        except (TimeoutError, ConnectionError, ssl.SSLError) as exc:
            raise _Unreachable(_reason(exc, self.timeout)) from None
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            raise SwarmError(f"etcd {url}{endpoint}: the answer is not JSON") from None

    def _ssl_context(self, url: str) -> ssl.SSLContext:
        if self._ssl is None:
            try:
                ctx = ssl.create_default_context(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise SwarmError(f"etcd {url}: ca_file {self.ca_file!r}: {exc}") from None
            if self.cert_file:
                try:
                    ctx.load_cert_chain(self.cert_file, self.key_file)
                except (OSError, ssl.SSLError) as exc:
                    raise SwarmError(
                        f"etcd {url}: cert_file {self.cert_file!r} / key_file "
                        f"{self.key_file!r}: {exc}"
                    ) from None
            if not self.verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._ssl = ctx
        return self._ssl


class _Unreachable(Exception):
    """No answer from this URL: try the next one."""


class _EtcdAnswer(Exception):
    """etcd answered with an error status."""

    def __init__(self, where: str, status: int, message: str):
        super().__init__(message)
        self.where = where
        self.status = status
        self.message = message

    def error(self) -> SwarmError:
        return SwarmError(f"etcd {self.where}: {self.message} (HTTP {self.status})")


def is_loopback_url(url: str) -> bool:
    """True when ``url`` names a loopback address literally (127.0.0.0/8 or ::1)."""
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _range_end(key: bytes) -> str:
    """etcd's range end for "every key starting with ``key``" (base64)."""
    end = bytearray(key)
    while end and end[-1] == 0xFF:
        end.pop()
    if not end:
        return base64.b64encode(b"\0").decode()  # every key from ``key`` on
    end[-1] += 1
    return base64.b64encode(bytes(end)).decode()


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        data = {}
    if isinstance(data, dict) and (data.get("message") or data.get("error")):
        return str(data.get("message") or data.get("error"))
    return exc.reason if isinstance(exc.reason, str) else "error"


def _reason(reason, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ssl.SSLError):
        return f"TLS: {getattr(reason, 'reason', None) or reason}"
    return str(getattr(reason, "strerror", None) or reason)
