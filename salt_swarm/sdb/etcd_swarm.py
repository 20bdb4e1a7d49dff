"""
etcd v3 through ``sdb://`` URIs, over etcd's JSON gateway (no client library needed).

Named ``etcd_swarm`` so it cannot clash with an ``etcd`` sdb driver (the name Salt's
old python-etcd driver used). Profile, in the minion config or pillar:

.. code-block:: yaml

    myetcd:
      driver: etcd_swarm
      urls: [https://10.0.0.5:2379, https://10.0.0.6:2379]   # or url: one URL
      prefix: /salt-swarm/            # prepended to every key
      username: swarm-prod            # optional; etcd auth
      password: secret
      ca_file: /etc/etcd/ca.pem       # optional TLS
      cert_file: /etc/etcd/client.pem
      key_file: /etc/etcd/client-key.pem
      verify: true
      timeout: 5                      # seconds, per URL

``sdb://myetcd/prod/managers`` then reads the etcd key ``/salt-swarm/prod/managers``.
Values are stored as JSON text, so dicts and lists round-trip; plain text written by
another tool comes back as a string. A password over an ``http://`` URL is refused
unless the address is loopback (127.0.0.0/8, ::1). See docs/token-store.md.
"""

from salt.exceptions import CommandExecutionError

from salt_swarm.core.errors import SwarmError
from salt_swarm.core.etcd_client import EtcdClient

__virtualname__ = "etcd_swarm"
__func_alias__ = {"set_": "set"}


def __virtual__():
    return __virtualname__


def get(key, profile=None):
    """The value at ``key``, or None when there is none. ``profile`` is the sdb
    profile's settings, which Salt passes from the ``sdb://<profile>/`` URI.

    CLI Example:

    .. code-block:: bash

        salt-call sdb.get sdb://myetcd/prod/managers
    """
    return _run(profile, lambda client: client.get(key))


def set_(key, value, profile=None):
    """Store ``value`` (any JSON-able data) at ``key``; True on success. ``profile``:
    as for ``get``.

    CLI Example:

    .. code-block:: bash

        salt-call sdb.set sdb://myetcd/prod/note '{owner: ops}'
    """
    _run(profile, lambda client: client.put(key, value))
    return True


def delete(key, profile=None):
    """Remove ``key``; True when it existed, False when there was nothing to remove.
    ``profile``: as for ``get``.

    CLI Example:

    .. code-block:: bash

        salt-call sdb.delete sdb://myetcd/prod/leader
    """
    return _run(profile, lambda client: client.delete(key))


def _run(profile, action):
    try:
        return action(EtcdClient.from_profile(profile, "sdb profile (driver etcd_swarm)"))
    except SwarmError as exc:
        raise CommandExecutionError(str(exc)) from None
