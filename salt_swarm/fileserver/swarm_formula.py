"""Fileserver backend ``swarm_formula``: the master serves the salt-swarm formula
(``salt://swarm/...``: ``swarm.bootstrap``, the reactor SLS, highstate's ``swarm``)
straight from the installed package, so formula and modules are always the same
version and nothing is copied into ``file_roots``.

Enable it in the master config, after ``roots`` (a ``swarm/`` folder in your own
``file_roots`` then wins) or before it (the packaged formula always wins):

.. code-block:: yaml

    fileserver_backend:
      - roots
      - swarm_formula

The formula is served in every saltenv. ``salt-run fileserver.file_list
backend=swarm_formula`` lists it.

It also hands each minion joining in an orchestrate its own sealed join token, at
``salt://_swarm_sealed/<jid>/<digest of its id>`` while the job's tokens are kept
(core/sealed_pull.py); these are never listed.
"""

import contextlib
import hashlib
import logging
import os

import salt.utils.gzip_util
import salt.utils.hashutils

from salt_swarm import packaged_formula as formula
from salt_swarm.core import sealed_pull

log = logging.getLogger(__name__)

__virtualname__ = "swarm_formula"
SEALED = "sealed:"  # fnd["path"] of a sealed token: no file on disk


def __virtual__():
    try:
        formula.root()
    except FileNotFoundError as exc:
        return False, f"swarm_formula: {exc}"
    return __virtualname__


def envs():
    """The saltenvs served: the formula is in each one asked for; ``base`` is listed."""
    return ["base"]


def _sealed(rel: str) -> bytes | None:
    from salt_swarm.master import sealed_store

    found = sealed_pull.parse_path(rel)
    token = sealed_store.fetch(__opts__, *found) if found else None
    return token.encode() if token else None


def find_file(path, saltenv="base", **kwargs):
    """``{path, rel, stat}`` of ``path`` when it is a file of the formula (or a
    sealed token kept for a join)."""
    fnd = {"path": "", "rel": ""}
    if path and path.startswith(sealed_pull.FOLDER + "/"):
        token = _sealed(path)
        if token is not None:
            fnd["path"], fnd["rel"] = f"{SEALED}{path}", path
            fnd["stat"] = [0o100400, 0, 0, 1, 0, 0, len(token), 0, 0, 0]
        return fnd
    full = formula.relative(os.path.normpath(path)) if path else None
    if full is None:
        return fnd
    fnd["path"], fnd["rel"] = str(full), os.path.normpath(path)
    with contextlib.suppress(OSError):
        fnd["stat"] = list(os.stat(full))
    return fnd


def serve_file(load, fnd):
    """One chunk of a formula file, from ``load["loc"]``."""
    ret = {"data": "", "dest": ""}
    if "path" not in load or "loc" not in load or not fnd.get("path"):
        return ret
    if fnd["path"].startswith(SEALED):
        token = _sealed(fnd.get("rel", ""))
        if token is not None:
            ret["dest"], ret["data"] = fnd["rel"], token[load["loc"] :]
        return ret
    full = formula.relative(fnd.get("rel", ""))
    if full is None or str(full) != fnd["path"]:
        return ret
    ret["dest"] = fnd["rel"]
    with open(full, "rb") as handle:
        handle.seek(load["loc"])
        data = handle.read(__opts__.get("file_buffer_size", 262144))
    gzip = load.get("gzip")
    if gzip and data:
        data = salt.utils.gzip_util.compress(data, gzip)
        ret["gzip"] = gzip
    ret["data"] = data
    return ret


def file_hash(load, fnd):
    """``{hsum, hash_type}`` of a formula file (files are small: hashed each time)."""
    hash_type = __opts__.get("hash_type", "sha256")
    if fnd.get("path", "").startswith(SEALED):
        token = _sealed(fnd.get("rel", ""))
        if token is None:
            return {}
        return {"hsum": hashlib.new(hash_type, token).hexdigest(), "hash_type": hash_type}
    if "path" not in load or not fnd.get("path") or not os.path.isfile(fnd["path"]):
        return {}
    return {"hsum": salt.utils.hashutils.get_hash(fnd["path"], hash_type), "hash_type": hash_type}


def file_list(load):
    """Every file of the formula (``swarm/...``)."""
    return formula.files()


def dir_list(load):
    """Every folder of the formula."""
    return formula.dirs()


def file_list_emptydirs(load):
    return []


def symlink_list(load):
    return {}


def update():
    """Nothing to fetch: the files are those of the installed package."""
    return None
