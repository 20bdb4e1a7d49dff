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
"""

import contextlib
import logging
import os

import salt.utils.gzip_util
import salt.utils.hashutils

from salt_swarm import packaged_formula as formula

log = logging.getLogger(__name__)

__virtualname__ = "swarm_formula"


def __virtual__():
    try:
        formula.root()
    except FileNotFoundError as exc:
        return False, f"swarm_formula: {exc}"
    return __virtualname__


def envs():
    """The saltenvs served: the formula is in each one asked for; ``base`` is listed."""
    return ["base"]


def find_file(path, saltenv="base", **kwargs):
    """``{path, rel, stat}`` of ``path`` when it is a file of the formula."""
    fnd = {"path": "", "rel": ""}
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
    if "path" not in load or not fnd.get("path") or not os.path.isfile(fnd["path"]):
        return {}
    hash_type = __opts__.get("hash_type", "sha256")
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
