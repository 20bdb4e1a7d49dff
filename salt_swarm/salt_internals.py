"""The few Salt internals salt-swarm uses, in one place, the same on Salt 3006 to 3008.

Everything else goes through the loader (``__salt__``, ``__opts__``). What is here:
the minion's private key (to open sealed tokens), a mine send that waits for the
master's answer, the mine entry ACL wrapper, and on the master the accepted keys,
the mine and grain caches and which minions are connected.

Where the versions differ (read from each one's source, checked by
tests/unit/test_salt_internals.py against the Salt installed):

- the master's minion data cache: Salt 3008 keeps the mine in bank ``mine`` and the
  grains in bank ``grains``, key = minion id; 3006 and 3007 keep both in bank
  ``minions/<id>``, keys ``mine`` and ``data`` (``{"grains": ..., "pillar": ...}``);
- the master's keys: Salt 3008 reads them through a cache (``keys.cache_driver``,
  by default ``localfs_key`` over the same files); 3006 and 3007 read the files under
  ``pki_dir`` (``minions/<id>`` for an accepted key);
- pillar values: Salt 3008's ``pillar.get`` masks every value ("**********") unless
  it runs inside a template render (or is given ``unmask``, which 3006 and 3007 do
  not know); the pillar itself holds the plain values in all three, so
  ``pillar_value`` reads it directly.
"""

from __future__ import annotations

import functools
import os

from cryptography.hazmat.primitives import serialization

SUPPORTED = (3006, 3007, 3008)  # Salt major versions salt-swarm is tested on


def salt_version() -> tuple[int, int]:
    """(major, minor) of the Salt this process runs, e.g. (3006, 29)."""
    import salt.version

    info = salt.version.__saltstack_version__
    return int(info.major), int(info.minor or 0)


def salt_version_text() -> str:
    import salt.version

    return str(salt.version.__version__)


def unsupported_salt() -> str | None:
    """Why the Salt of this process cannot run salt-swarm (older than 3006, which pip
    refuses but ``saltutil.sync_all`` does not), None when it can. A Salt newer than
    3008 is tried, not refused."""
    if salt_version() < (SUPPORTED[0], 0):
        return (
            f"salt-swarm needs Salt {SUPPORTED[0]} or later (tested on "
            f"{', '.join(map(str, SUPPORTED))}); this is Salt {salt_version_text()}"
        )
    return None


def _data_cache_by_kind() -> bool:
    """Salt 3008's minion data cache: one bank per kind (``mine``, ``grains``)."""
    return salt_version() >= (3008, 0)


# ---- minion side ---------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _private_key(path: str, mtime_ns: int):
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def minion_private_key(opts: dict):
    """The minion's RSA key (``pki_dir/minion.pem``) as a ``cryptography`` key; loaded
    once per process while the file is unchanged (the grain module preloads it)."""
    path = os.path.join(opts["pki_dir"], "minion.pem")
    return _private_key(path, os.stat(path).st_mtime_ns)


def send_mine(opts: dict, data: dict):
    """Store ``data`` (alias -> value, ACL-wrapped where needed) as this minion's mine
    entries on the master, waiting for its answer: what ``mine.update`` sends, without
    its fire-and-forget. Returns the master's answer (True when stored)."""
    import salt.channel.client

    load = {"cmd": "_mine", "data": data, "id": opts["id"], "clear": False}
    with salt.channel.client.ReqChannel.factory(opts) as channel:
        return channel.send(load)


def mine_function_definition(spec):
    """(function name or None, args, kwargs, acl) of one ``mine_functions`` entry."""
    import salt.utils.mine

    return salt.utils.mine.parse_function_definition(spec)


def mine_acl_wrapped(value, acl: dict):
    """``value`` wrapped with its ``allow_tgt`` ACL, as the master stores such an entry."""
    import salt.utils.mine

    return salt.utils.mine.wrap_acl_structure(value, **acl) if acl.get("allow_tgt") else value


def mine_entry_data(entry):
    """A mine entry's data, without the ACL wrapper ``allow_tgt`` adds."""
    import salt.utils.mine

    if isinstance(entry, dict) and salt.utils.mine.MINE_ITEM_ACL_ID in entry:
        return entry.get(salt.utils.mine.MINE_ITEM_ACL_DATA)
    return entry


# ---- master side ---------------------------------------------------------------


def accepted_minions(opts: dict) -> set[str]:
    import salt.key

    with salt.key.get_key(opts) as keys:  # closes the event bus connection it opens
        found = keys.list_status("accepted")
    return set(found.get("minions", []))


def accepted_public_key(opts: dict, minion: str) -> str | None:
    """The PEM of ``minion``'s accepted key, None when it has none (pending, rejected,
    denied or unknown)."""
    import salt.key

    if _has_key_cache(opts):
        # Salt 3008: {"state": ..., "pub": ...} per minion in the key cache.
        with salt.key.get_key(opts) as keys:
            record = keys.cache.fetch("keys", minion)
        if isinstance(record, dict):
            return record.get("pub") if record.get("state") == "accepted" else None
        return None
    # Salt 3006 and 3007: one file per accepted minion under pki_dir/minions.
    if minion not in accepted_minions(opts):
        return None
    path = os.path.join(opts["pki_dir"], "minions", minion)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _has_key_cache(opts: dict) -> bool:
    """Salt 3008 keeps keys in a cache (``keys.cache_driver``); older ones in files."""
    return salt_version() >= (3008, 0)


def cached_mine(opts: dict, minions) -> dict[str, dict]:
    """minion -> its mine entries in the master's cache (function -> data, ACL-wrapped
    where the entry has an ``allow_tgt``), for those of ``minions`` that have any."""
    import salt.cache

    cache = salt.cache.factory(opts)
    out = {}
    for minion in minions:
        if _data_cache_by_kind():
            entries = cache.fetch("mine", minion)  # Salt 3008
        else:
            entries = cache.fetch(f"minions/{minion}", "mine")  # Salt 3006 and 3007
        if isinstance(entries, dict) and entries:
            out[minion] = entries
    return out


def cache_files(kind: str) -> str:
    """Where the master's default cache (``cache: localfs``) keeps every minion's
    ``kind`` (``mine``, ``grains`` or ``pillar``): a glob under its ``cachedir``. Before
    3008 the grains and the pillar share one file (``data.p``)."""
    if kind not in ("mine", "grains", "pillar"):
        raise ValueError(f"no minion data cache kind {kind!r}")
    if _data_cache_by_kind():
        return f"{kind}/*.p"
    return "minions/*/mine.p" if kind == "mine" else "minions/*/data.p"


def cached_grains(opts: dict, minion: str) -> dict:
    """The grains the master has cached for ``minion`` (what it last reported)."""
    import salt.cache

    cache = salt.cache.factory(opts)
    if _data_cache_by_kind():
        grains = cache.fetch("grains", minion)  # Salt 3008
    else:
        data = cache.fetch(f"minions/{minion}", "data")  # Salt 3006 and 3007
        grains = data.get("grains") if isinstance(data, dict) else None
    return grains if isinstance(grains, dict) else {}


def connected_minions(opts: dict, among) -> set[str]:
    """Those of ``among`` the master sees connected (Salt's presence check)."""
    import salt.utils.minions

    return set(salt.utils.minions.CkMinions(opts).connected_ids(subset=list(among)))


def matched(opts: dict, tgt, tgt_type: str) -> tuple[list[str], list[str]]:
    """(minions a target matches, names a list target gives that are no minion)."""
    import salt.utils.minions

    found = salt.utils.minions.CkMinions(opts).check_minions(tgt, tgt_type)
    return sorted(found.get("minions", [])), sorted(found.get("missing", []))


def pillar_value(pillar, key: str, default=None):
    """The value at ``key`` (``a:b:c``) of a minion's ``__pillar__``, as it is: never
    Salt 3008's masked placeholder, whatever the caller's context."""
    from salt.utils.data import traverse_dict_and_list

    found = traverse_dict_and_list(pillar or {}, key, default, ":")
    return found
