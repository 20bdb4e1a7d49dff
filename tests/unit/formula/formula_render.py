"""Render the formula's SLS files the way Salt does, without a master or a minion.

Salt's own render pipeline does the work: the renderers come from
``salt.loader.render`` and ``salt.template.compile_template`` runs ``jinja|yaml``
over the file, so the SLS gets Salt's Jinja environment (its ``json`` filter,
``import_yaml``, ``namespace``) and the YAML is read by Salt's loader
(``SaltYamlSafeLoader``, libyaml's when present), as on a real master or minion.
The files are served by a local file client over ``states/`` (``file_client:
local``, ``file_roots``), so ``{% from "swarm/map.jinja" import ... %}`` resolves
as it does under ``salt-call --local``, in the reactor and in the orchestrate.

The execution functions the SLS call come from a plain dict (``funcs``), as the
tests choose them; ``pillar.get`` and ``slsutil.merge`` behave like Salt's.
"""

from __future__ import annotations

import copy
import fnmatch
import inspect
from pathlib import Path

import salt.config
import salt.fileclient
import salt.loader
import salt.template
import salt.utils.dictupdate
from salt.exceptions import CommandExecutionError

from salt_swarm.core import highstate_steps, role_targets
from salt_swarm.core.errors import SwarmError
from salt_swarm.version import __version__

STATES = Path(__file__).resolve().parents[3] / "states"
RENDERER = "jinja|yaml"


def pillar_get(pillar):
    """``pillar.get`` over ``pillar``: nested keys split on ``:``."""

    def get(key, default="", merge=False, delimiter=":", **kwargs):
        value = pillar
        for part in key.split(delimiter):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    return get


def slsutil_merge(obj_a, obj_b, strategy="smart", renderer="yaml", merge_lists=False):
    """``slsutil.merge``, which is this call in Salt itself."""
    return salt.utils.dictupdate.merge(obj_a, obj_b, strategy, renderer, merge_lists)


def functions(
    pillar=None, minion_id="node1", matches=None, version=__version__, os_family="Debian", **more
):
    """The execution functions the formula calls: ``pillar.get``, ``slsutil.merge``
    and ``match.*`` (glob and list on ``minion_id`` as Salt matches them; other
    types answer from ``matches``, ``{(tgt_type, tgt): bool}``), plus ``more``
    (``{"swarm.bootstrap_plan": ...}``)."""
    matches = matches or {}

    def matcher(tgt_type):
        def match(tgt, *args, **kwargs):
            if tgt_type == "glob":
                return fnmatch.fnmatch(minion_id, tgt)
            if tgt_type == "list":
                return minion_id in (tgt.split(",") if isinstance(tgt, str) else tgt)
            return matches.get((tgt_type, tgt), False)

        return match

    funcs = {
        "pillar.get": pillar_get(pillar or {}),
        "slsutil.merge": slsutil_merge,
    }
    for tgt_type in ("glob", "list", "grain", "grain_pcre", "pcre", "pillar", "compound"):
        funcs[f"match.{tgt_type}"] = matcher(tgt_type)

    def own_role():  # swarm.own_role, on these matchers
        conf = (pillar or {}).get("swarm") or {}
        try:
            return role_targets.own_role(conf, lambda kind, tgt: funcs[f"match.{kind}"](tgt))
        except SwarmError as exc:
            raise CommandExecutionError(str(exc)) from None

    def own_steps(sls="swarm", settings=None):  # swarm.own_steps, on these matchers
        try:
            return highstate_steps.for_sls(sls, settings, own_role, minion_id, version, os_family)
        except SwarmError as exc:
            raise CommandExecutionError(str(exc)) from None

    funcs["swarm.own_role"] = own_role
    funcs["swarm.own_steps"] = own_steps
    funcs.update(more)
    return funcs


def _renderers(opts, funcs, pillar, file_client):
    """salt.loader.render; Salt 3006's takes the pillar from opts only."""
    kwargs = {"file_client": file_client}
    if "pillar" in inspect.signature(salt.loader.render).parameters:
        kwargs["pillar"] = pillar
    return salt.loader.render(opts, funcs, **kwargs)


class Formula:
    """The formula under ``root`` (a folder holding ``swarm/``), rendered by Salt.
    ``cachedir`` is where the file client keeps its copies."""

    def __init__(self, cachedir, root=STATES):
        self.root = Path(root)
        self.cachedir = str(cachedir)
        self._file_client = None

    def file_client(self):
        """One local file client for every render (making one costs more than a
        render)."""
        if self._file_client is None:
            self._file_client = salt.fileclient.get_file_client(self.opts({}))
        return self._file_client

    def close(self):
        if self._file_client is not None:
            self._file_client.destroy()
            self._file_client = None

    def opts(self, grains, pillar=None):
        opts = copy.deepcopy(salt.config.DEFAULT_MINION_OPTS)
        opts.update(
            id=grains.get("id", "node1"),
            pillar=pillar or {},
            file_client="local",
            fileserver_backend=["roots"],
            file_roots={"base": [str(self.root)]},
            cachedir=self.cachedir,
            renderer=RENDERER,
            grains=grains,
        )
        return opts

    def render(self, sls, *, funcs=None, pillar=None, grains=None, **context):
        """The high data Salt makes of SLS ``sls`` (``swarm.node``,
        ``swarm.reactor.start``): Jinja then YAML. ``context`` is handed to the
        renderers as the reactor hands ``tag`` and ``data``. A render error raises
        Salt's exception (``SaltRenderError``)."""
        grains = {"id": "node1", "os_family": "Debian", **(grains or {})}
        pillar = pillar or {}
        salt_funcs = (
            funcs
            if funcs is not None
            else functions(pillar, grains["id"], os_family=grains["os_family"])
        )
        file_client = self.file_client()
        # As the state system and the reactor do: render the file client's copy.
        relative = f"{sls.replace('.', '/')}.sls"
        path = file_client.cache_file(f"salt://{relative}", "base")
        assert path, f"{sls}: no such SLS under {self.root}"
        # Salt's loaded fileserver modules are shared by the process: a file client
        # made later over other file_roots would serve its files here.
        assert Path(path).read_bytes() == (self.root / relative).read_bytes(), path
        renderers = _renderers(self.opts(grains, pillar), salt_funcs, pillar, file_client)
        return salt.template.compile_template(
            path, renderers, RENDERER, [], [], saltenv="base", sls=sls, **context
        )

    def render_text(self, text, *, funcs=None, pillar=None, grains=None, **context):
        """Render SLS ``text`` as if it were a file of the formula."""
        grains = {"id": "node1", **(grains or {})}
        pillar = pillar or {}
        salt_funcs = funcs if funcs is not None else functions(pillar, grains["id"])
        renderers = _renderers(self.opts(grains, pillar), salt_funcs, pillar, self.file_client())
        return salt.template.compile_template(
            ":string:", renderers, RENDERER, [], [], input_data=text, **context
        )
