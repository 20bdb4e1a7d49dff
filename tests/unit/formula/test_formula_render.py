"""Every SLS of the formula rendered by Salt itself (Jinja, then Salt's YAML loader,
files served by a local file client: tests/unit/formula/formula_render.py), with normal and
with hostile minion ids, hostnames, event fields and pillar strings.

Minion ids may hold anything but ``/``, ``\\`` and NUL; hostnames and grains are
what a minion says; presence events can be forged by any minion. The rendered high
data must be exactly the expected chunks: constant state IDs, the same functions
and arguments, and every such string arriving intact as a value, never as YAML or
Jinja.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from salt.exceptions import SaltRenderError

from salt_swarm.core import bootstrap_steps
from salt_swarm.version import __version__
from tests.unit.formula.formula_render import STATES, Formula, functions

INJECTION = "x\nevil:\n  local.cmd.run:\n    - tgt: '*'\n    - arg: [touch /tmp/pwned]"

# Characters that JSON leaves raw and YAML reads otherwise (line breaks to YAML, or
# refused by its reader): json.jinja escapes them.
YAML_BREAKS = {
    "line separators": "a \u2028 b \u2029 c\u2028--- d",
    "next line": "a \x85 b\x85... c",
    "del and c1 controls": "a\x7f\x80\x9bb\x9f",
    "noncharacters": "\ufffex\uffff",
}

HOSTILE = {
    "newline then yaml": INJECTION,
    # Rendered raw into the start reactor's state ID, this made a chunk of its own.
    "state id breakout": (
        "x:\n  local.cmd.run:\n    - tgt: '*'\n    - arg: [touch /tmp/pwned]\nswarm join minion y"
    ),
    "json breakout": 'x"], "evil": {"local.cmd.run": [{"tgt": "*"}]}, "y": ["',
    "colon space": "a: b",
    "quotes": "it's \"quoted\" ''",
    "jinja expression": "{{ 7*7 }}",
    "jinja raw": "{% raw %}{{ 7*7 }}{% endraw %}",
    "jinja statement and comment": "{% set x = 1 %}{# c #}{%- endif %}",
    "comment": "# c",
    "trailing comment": "a #b",
    "leading dash": "- x",
    "leading star": "*alias",
    "leading ampersand": "&anchor x",
    "leading bang": "!!python/object/apply:os.system ['id']",
    "question and pipe": "? x\n| y\n> z",
    "document markers": "a\n---\nb\n...\n",
    "yaml words": "yes",
    "null word": "~",
    "number-like": "1e3",
    "flow characters": "[a, {b: c}]",
    "tab": "a\tb",
    "c0 controls": "\x01\x1b[31m\x08\x0c\r",
    "backslashes": "a\\nb\\\\u2028",
    "spaces around": "  x  ",
    "unicode": "🐳 ünïcödé 名前 \U0001f600 \u202eabc \ufeff",
    "very long id": "h" * 255,  # about the longest a master keeps: a key file's name
    **YAML_BREAKS,
}
HOSTILE_IDS = list(HOSTILE)

# What a failed render raises: Salt's YAML renderer wraps scanner and parser errors,
# not the reader's (a character YAML refuses).
RENDER_ERRORS = (SaltRenderError, yaml.YAMLError)


@pytest.fixture(scope="module")
def formula(tmp_path_factory):
    formula = Formula(tmp_path_factory.mktemp("formula-cache"))
    yield formula
    formula.close()


def assert_exactly(rendered, expected):
    """Same state IDs in the same order, same chunks; strings compared exactly."""
    assert list(rendered) == list(expected)
    assert rendered == expected
    # == takes 1 for True: make sure each value also has the type expected.
    assert _typed(rendered) == _typed(expected)


def _typed(value):
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def requisites_resolve(rendered):
    """Every require names a chunk of the same render."""
    for chunk in rendered.values():
        if not isinstance(chunk, dict):
            continue
        for args in chunk.values():
            for arg in args:
                for req in arg.get("require", []) if isinstance(arg, dict) else []:
                    ((kind, target),) = req.items()
                    assert target in rendered, f"require {kind}: {target!r} names no chunk"
                    assert any(fun.startswith(kind + ".") for fun in rendered[target])


# ---------------------------------------------------------------------------
# json.jinja: `| json` made safe for YAML


def render_json(formula, value):
    text = '{%- from "swarm/json.jinja" import json %}\nvalue: {{ json(data.value) }}\n'
    return formula.render_text(text, data={"value": value})["value"]


def every_code_point():
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    return ["".join(map(chr, cps[i : i + 4096])) for i in range(0, len(cps), 4096)]


def test_json_carries_every_unicode_character_through_salts_yaml_loader(formula):
    chunks = every_code_point()
    assert render_json(formula, chunks) == chunks
    # ... in a mapping's keys as well, with spaces around each line break YAML knows.
    breaks = {f" {ch} {ch}--- ": f"\t{ch}... {ch}" for ch in "\n\r\x85\u2028\u2029"}
    assert render_json(formula, breaks) == breaks


@pytest.mark.parametrize("value", list(YAML_BREAKS.values()), ids=list(YAML_BREAKS))
def test_plain_json_filter_is_not_enough_for_yaml(formula, value):
    """Why json.jinja exists: Salt's `| json` leaves these characters raw
    (ensure_ascii=False) and YAML reads them as line breaks or refuses them."""
    text = "value: {{ data.value | json }}\n"
    try:
        got = formula.render_text(text, data={"value": value})["value"]
    except RENDER_ERRORS:
        return
    assert got != value


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2.5,
        "",
        "null",
        [],
        {},
        [None, True, 1, "1", ["x"]],
        {"a\u2028b": {"c\x85": [1, None, "\x7f"]}, "n": None},
    ],
)
def test_json_keeps_types(formula, value):
    got = render_json(formula, value)
    assert got == value and _typed(got) == _typed(value)


def test_an_overlong_mapping_key_fails_the_render_and_injects_nothing(formula):
    """YAML takes a flow mapping key of up to 1024 characters: a longer one (a
    hostname a minion made up) stops the render."""
    with pytest.raises(SaltRenderError):
        render_json(formula, {"k" * 1100 + INJECTION: 1})
    assert render_json(formula, ["k" * 100_000 + INJECTION]) == ["k" * 100_000 + INJECTION]


# ---------------------------------------------------------------------------
# Reactor SLS (rendered on the master; `data` and `tag` are the event's)


def start_chunk(minion, tag):
    return {
        "swarm join minion": {
            "runner.swarm.join_minion": [{"args": [{"minion": minion}, {"event_tag": tag}]}]
        }
    }


def retire_chunk(state_id, minions, tag):
    return {
        state_id: {"runner.swarm.retire": [{"args": [{"minions": minions}, {"event_tag": tag}]}]}
    }


def test_start_reactor(formula):
    tag = "salt/minion/worker7/start"
    rendered = formula.render("swarm.reactor.start", tag=tag, data={"id": "worker7"})
    assert_exactly(rendered, start_chunk("worker7", tag))


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_start_reactor_hostile_id(formula, key):
    minion = HOSTILE[key]
    tag = f"salt/minion/{minion}/start"
    data = {"id": minion, "cmd": "_minion_event", "_stamp": "2026-01-01T00:00:00"}
    rendered = formula.render("swarm.reactor.start", tag=tag, data=data)
    assert_exactly(rendered, start_chunk(minion, tag))


def test_start_reactor_very_long_id(formula):
    minion = "x" * 100_000 + INJECTION
    rendered = formula.render("swarm.reactor.start", tag="t", data={"id": minion})
    assert_exactly(rendered, start_chunk(minion, "t"))


@pytest.mark.parametrize("data", [{}, {"id": ""}, {"id": None}, {"lost": ["x"]}])
def test_start_reactor_without_id_does_nothing(formula, data):
    assert formula.render("swarm.reactor.start", tag="salt/minion//start", data=data) == {}


def test_key_reactor(formula):
    data = {"act": "delete", "id": "worker3", "result": True}
    rendered = formula.render("swarm.reactor.key", tag="salt/key", data=data)
    assert_exactly(rendered, retire_chunk("swarm retire deleted minion", ["worker3"], "salt/key"))


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_key_reactor_hostile_id(formula, key):
    data = {"act": "delete", "id": HOSTILE[key], "result": True}
    rendered = formula.render("swarm.reactor.key", tag="salt/key", data=data)
    expected = retire_chunk("swarm retire deleted minion", [HOSTILE[key]], "salt/key")
    assert_exactly(rendered, expected)


@pytest.mark.parametrize(
    "data",
    [
        {"act": "accept", "id": "worker3"},
        {"act": "reject", "id": INJECTION},
        {"act": "delete"},
        {"act": "delete", "id": ""},
        {"act": "delete\n", "id": "x"},
    ],
)
def test_key_reactor_ignores_other_key_events(formula, data):
    assert formula.render("swarm.reactor.key", tag="salt/key", data=data) == {}


def test_presence_reactor(formula):
    data = {"new": [], "lost": ["worker2", "worker5"], "present": ["manager1"]}
    tag = "salt/presence/change"
    rendered = formula.render("swarm.reactor.presence", tag=tag, data=data)
    assert_exactly(rendered, retire_chunk("swarm retire lost minions", ["worker2", "worker5"], tag))


def test_node_down_reactor_hands_the_node_id_to_the_runner(formula):
    tag = "salt/beacon/manager1/swarm/node/changed"
    data = {
        "node_id": "a" * 25,
        "hostname": "w1",
        "changes": {"status": {"old": "ready", "new": "down"}},
    }
    rendered = formula.render("swarm.reactor.node_down", tag=tag, data=data)
    assert_exactly(
        rendered,
        {
            "swarm retire down node": {
                "runner.swarm.retire": [{"args": [{"nodes": ["a" * 25]}, {"event_tag": tag}]}]
            }
        },
    )


@pytest.mark.parametrize(
    "data",
    [
        {"node_id": "x", "changes": {"status": {"old": "down", "new": "ready"}}},
        {"node_id": "x", "changes": {"availability": {"old": "active", "new": "drain"}}},
        {"changes": {"status": {"new": "down"}}},
    ],
    ids=["back up", "availability", "no node"],
)
def test_node_down_reactor_ignores_other_changes(formula, data):
    tag = "salt/beacon/manager1/swarm/node/changed"
    assert formula.render("swarm.reactor.node_down", tag=tag, data=data) == {}


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_node_down_reactor_hostile_node_id_stays_data(formula, key):
    data = {"node_id": HOSTILE[key], "changes": {"status": {"new": "down"}}}
    rendered = formula.render("swarm.reactor.node_down", tag="t", data=data)
    args = rendered["swarm retire down node"]["runner.swarm.retire"][0]["args"]
    assert args == [{"nodes": [HOSTILE[key]]}, {"event_tag": "t"}]


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_presence_reactor_hostile_list(formula, key):
    lost = [HOSTILE[key], "worker2", HOSTILE[key] + "\n- worker1"]
    tag = "salt/presence/change"
    rendered = formula.render("swarm.reactor.presence", tag=tag, data={"lost": lost})
    assert_exactly(rendered, retire_chunk("swarm retire lost minions", lost, tag))


@pytest.mark.parametrize(
    "lost",
    [
        "*",
        INJECTION,
        {"tgt": "*", INJECTION: [INJECTION]},
        {"nested": {"a": [1, 2.5, None, True]}},
        7,
        True,
        [["a"], {"b": None}],
    ],
    ids=["glob string", "injection string", "dict", "nested dict", "number", "true", "mixed"],
)
def test_presence_reactor_hands_any_forged_lost_to_the_runner(formula, lost):
    """A minion can fire salt/presence/change itself: whatever `lost` is, it reaches
    the runner as data (the runner checks it), never as YAML."""
    tag = INJECTION
    rendered = formula.render("swarm.reactor.presence", tag=tag, data={"lost": lost})
    assert_exactly(rendered, retire_chunk("swarm retire lost minions", lost, tag))


@pytest.mark.parametrize("data", [{}, {"lost": []}, {"lost": None}, {"new": ["x"]}])
def test_presence_reactor_without_lost_does_nothing(formula, data):
    assert formula.render("swarm.reactor.presence", tag="salt/presence/change", data=data) == {}


def test_presence_reactor_with_data_json_cannot_hold_fails_the_render(formula):
    # msgpack carries bytes; JSON has no such type: no reaction rather than a guess.
    with pytest.raises(SaltRenderError):
        formula.render("swarm.reactor.presence", tag="t", data={"lost": [b"worker1"]})


# ---------------------------------------------------------------------------
# Highstate SLS (rendered on the minion; pillar strings are the admin's, grains the
# minion's own, and both may hold anything)


def swarm_pillar(**settings):
    return {"swarm": {"managers": {"tgt": "manager*"}, "workers": {"tgt": "worker*"}, **settings}}


def test_manager_sls(formula):
    rendered = formula.render("swarm.manager", pillar=swarm_pillar(advertise_addr="eth0"))
    expected = {
        "swarm manager": {
            "swarm.manager": [
                {"advertise_addr": "eth0"},
                {"listen_addr": None},
                {"mine_update": True},
                {"mine_timeout": 60},
            ]
        }
    }
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_manager_sls_hostile_pillar(formula, key):
    value = HOSTILE[key]
    pillar = swarm_pillar(advertise_addr=value, listen_addr=value + "l", mine_timeout=value)
    rendered = formula.render("swarm.manager", pillar=pillar)
    expected = {
        "swarm manager": {
            "swarm.manager": [
                {"advertise_addr": value},
                {"listen_addr": value + "l"},
                {"mine_update": True},
                {"mine_timeout": value},
            ]
        }
    }
    assert_exactly(rendered, expected)


def test_worker_sls(formula):
    rendered = formula.render("swarm.worker", pillar=swarm_pillar(mine_timeout=90))
    expected = {"swarm worker": {"swarm.worker": [{"advertise_addr": None}, {"mine_timeout": 90}]}}
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_worker_sls_hostile_pillar(formula, key):
    value = HOSTILE[key]
    rendered = formula.render(
        "swarm.worker", pillar=swarm_pillar(advertise_addr=value, mine_timeout=value)
    )
    expected = {
        "swarm worker": {"swarm.worker": [{"advertise_addr": value}, {"mine_timeout": value}]}
    }
    assert_exactly(rendered, expected)


def test_first_sls(formula):
    init = {"default_addr_pool": ["198.19.0.0/17"], "subnet_size": 24, "autolock": False}
    rendered = formula.render("swarm.first", pillar=swarm_pillar(init=init))
    expected = {
        "swarm initialized": {
            "swarm.initialized": [
                {"advertise_addr": None},
                {"listen_addr": None},
                {"mine_update": True},
                {"default_addr_pool": ["198.19.0.0/17"]},
                {"subnet_size": 24},
                {"autolock": False},
            ]
        }
    }
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_first_sls_hostile_pillar(formula, key):
    value = HOSTILE[key]
    init = {
        "default_addr_pool": [value, "198.19.0.0/17"],
        "subnet_size": value,
        "data_path_port": {value: value},
        "autolock": value,
    }
    pillar = swarm_pillar(advertise_addr=value, listen_addr=value, init=init)
    rendered = formula.render("swarm.first", pillar=pillar)
    expected = {
        "swarm initialized": {
            "swarm.initialized": [
                {"advertise_addr": value},
                {"listen_addr": value},
                {"mine_update": True},
                {"default_addr_pool": [value, "198.19.0.0/17"]},
                {"subnet_size": value},
                {"data_path_port": {value: value}},
                {"autolock": value},
            ]
        }
    }
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("role", ["managers", "workers"])
def test_store_sls(formula, role):
    pillar = swarm_pillar(token_store="sdb://swarmstore/prod", advertise_addr="eth1")
    minion = "manager1" if role == "managers" else "worker1"
    rendered = formula.render(
        "swarm.store", pillar=pillar, grains={"id": minion}, funcs=functions(pillar, minion)
    )
    args = [
        {"role": role[:-1]},
        {"store": "sdb://swarmstore/prod"},
        {"advertise_addr": "eth1"},
    ]
    if role == "managers":
        args.append({"listen_addr": None})
    assert_exactly(rendered, {"swarm member through the token store": {"swarm.store_joined": args}})


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_store_sls_hostile_pillar(formula, key):
    value = HOSTILE[key]
    pillar = {
        "swarm": {
            "managers": {"tgt": value, "tgt_type": "grain"},
            "token_store": value,
            "advertise_addr": value,
            "listen_addr": value,
        }
    }
    funcs = functions(pillar, "m1", matches={("grain", value): True})
    rendered = formula.render("swarm.store", pillar=pillar, funcs=funcs)
    args = [
        {"role": "manager"},
        {"store": value},
        {"advertise_addr": value},
        {"listen_addr": value},
    ]
    assert_exactly(rendered, {"swarm member through the token store": {"swarm.store_joined": args}})


def test_store_sls_refuses_a_minion_in_no_role(formula):
    with pytest.raises(SaltRenderError, match="neither swarm:managers nor swarm:workers"):
        formula.render("swarm.store", pillar=swarm_pillar(token_store="sdb://s/k"))


NOT_A_MEMBER = {
    "swarm not a member": {
        "test.nop": [{"name": "this minion is in neither swarm:managers nor swarm:workers"}]
    }
}


@pytest.mark.parametrize(
    "minion, settings, expected",
    [
        ("manager2", {}, {"include": ["swarm.manager"]}),
        ("manager1", {"first_manager": "manager1"}, {"include": ["swarm.first"]}),
        ("worker1", {}, {"include": ["swarm.worker"]}),
        ("worker1", {"token_store": "sdb://s/k"}, {"include": ["swarm.store"]}),
        ("other", {}, NOT_A_MEMBER),
    ],
)
def test_init_sls(formula, minion, settings, expected):
    pillar = swarm_pillar(**settings)
    rendered = formula.render(
        "swarm.init", pillar=pillar, grains={"id": minion}, funcs=functions(pillar, minion)
    )
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_init_sls_hostile_id_and_targets(formula, key):
    """The id, the targets and first_manager are compared, never printed; the
    match functions get the targets as they are."""
    value = HOSTILE[key]
    called = []
    pillar = {
        "swarm": {
            "managers": {"tgt": value, "tgt_type": "pillar"},
            "workers": {"tgt": value + "w", "tgt_type": "compound"},
            "first_manager": value,
        }
    }
    funcs = functions(pillar, value)
    funcs["match.pillar"] = lambda tgt, *a, **k: called.append(tgt) or tgt == value
    rendered = formula.render("swarm.init", pillar=pillar, grains={"id": value}, funcs=funcs)
    assert_exactly(rendered, {"include": ["swarm.first"]})
    assert called == [value]

    funcs["match.pillar"] = lambda tgt, *a, **k: False
    rendered = formula.render("swarm.init", pillar=pillar, grains={"id": value}, funcs=funcs)
    assert_exactly(rendered, NOT_A_MEMBER)


@pytest.mark.parametrize(
    "target",
    [
        {"tgt": "swarm_role:manager", "tgt_type": "grain"},
        {"tgt": "swarm_role:man.*", "tgt_type": "grain_pcre"},
        {"tgt": "m* and G@swarm_role:manager", "tgt_type": "compound"},
    ],
)
def test_init_sls_refuses_a_role_by_grain_with_a_master(formula, target):
    """A minion sets its own grains: with a master, no role is taken from them."""
    pillar = {"swarm": {"managers": target}}
    with pytest.raises(SaltRenderError, match="matches on grains"):
        formula.render(
            "swarm.init", pillar=pillar, grains={"id": "m1"}, funcs=functions(pillar, "m1")
        )
    trusted = {"swarm": {"managers": target, "trust_grains": True}}
    funcs = functions(trusted, "m1")
    funcs["match." + target["tgt_type"]] = lambda *a, **k: True
    rendered = formula.render("swarm.init", pillar=trusted, grains={"id": "m1"}, funcs=funcs)
    assert_exactly(rendered, {"include": ["swarm.manager"]})


@pytest.mark.parametrize(
    "target",
    [
        {"tgt": "swarmmanager", "tgt_type": "nodegroup"},
        {"tgt": "N@swarmmanager or m9", "tgt_type": "compound"},
    ],
)
def test_init_sls_refuses_a_role_by_nodegroup_which_a_minion_cannot_expand(formula, target):
    pillar = {"swarm": {"managers": target}}
    with pytest.raises(SaltRenderError, match="nodegroups are known to the master only"):
        formula.render(
            "swarm.init", pillar=pillar, grains={"id": "m1"}, funcs=functions(pillar, "m1")
        )


@pytest.mark.parametrize("running", ["0.1.0", None])
def test_init_sls_refuses_a_minion_whose_extension_is_not_the_formulas_version(formula, running):
    pillar = swarm_pillar()
    if running is None:  # no extension on the minion: no swarm.own_steps
        funcs = functions(pillar, "worker1")
        del funcs["swarm.own_steps"]
        match = "salt-swarm is not installed on this minion"
    else:
        funcs = functions(pillar, "worker1", version=running)
        match = "salt-swarm versions differ: this minion runs the extension 0.1.0"
    with pytest.raises(SaltRenderError, match=match):
        formula.render("swarm.init", pillar=pillar, grains={"id": "worker1"}, funcs=funcs)


def test_the_formula_and_the_package_have_one_version():
    defaults = yaml.safe_load((STATES / "swarm" / "defaults.yaml").read_text())
    assert defaults["swarm"]["formula_version"] == __version__


def test_node_sls(formula):
    pillar = {
        "swarm_nodes": {
            "worker1": {"role": "worker", "availability": "active", "labels": {"zone": "a"}},
            "Manager1": {"role": "manager", "availability": "drain"},
            "worker2": {},
        }
    }
    rendered = formula.render("swarm.node", pillar=pillar)
    twins = {"swarm stale twin nodes": {"swarm.twins_pruned": [{"name": "stale twins"}]}}
    require = {"require": [{"swarm": "swarm stale twin nodes"}]}
    expected = {
        **twins,
        # In the order of the hostnames, case aside (Jinja's dictsort).
        "swarm node 1": {
            "swarm.node": [
                require,
                {"name": "Manager1"},
                {"role": "manager"},
                {"availability": "drain"},
            ]
        },
        "swarm node 2": {
            "swarm.node": [
                require,
                {"name": "worker1"},
                {"role": "worker"},
                {"availability": "active"},
                {"labels": {"zone": "a"}},
            ]
        },
        "swarm node 3": {"swarm.node": [require, {"name": "worker2"}]},
    }
    assert_exactly(rendered, expected)
    requisites_resolve(rendered)


def test_node_sls_without_nodes_prunes_twins_only(formula):
    rendered = formula.render("swarm.node", pillar={})
    assert_exactly(
        rendered, {"swarm stale twin nodes": {"swarm.twins_pruned": [{"name": "stale twins"}]}}
    )


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_node_sls_hostile_hostnames_and_settings(formula, key):
    value = HOSTILE[key]
    nodes = {
        value: {"role": value, "availability": value, "labels": {value: value, "k": value}},
        "b" + value: {"role": "worker"},
    }
    rendered = formula.render("swarm.node", pillar={"swarm_nodes": nodes})
    require = {"require": [{"swarm": "swarm stale twin nodes"}]}
    chunks = {
        value: [
            require,
            {"name": value},
            {"role": value},
            {"availability": value},
            {"labels": {value: value, "k": value}},
        ],
        "b" + value: [require, {"name": "b" + value}, {"role": "worker"}],
    }
    order = sorted(nodes, key=str.lower)
    expected = {"swarm stale twin nodes": {"swarm.twins_pruned": [{"name": "stale twins"}]}}
    for index, hostname in enumerate(order, 1):
        expected[f"swarm node {index}"] = {"swarm.node": chunks[hostname]}
    assert_exactly(rendered, expected)
    requisites_resolve(rendered)


# engine.sls keeps the plain `| json` filter: test_engine_sls.py renders it without a
# file client, so it cannot import json.jinja. Its values are the minion's own
# pillar and grains, on its own highstate.
ENGINE_SAFE = [key for key in HOSTILE_IDS if key not in YAML_BREAKS]


@pytest.mark.parametrize("key", ENGINE_SAFE)
def test_engine_sls_hostile_pillar_and_grains(formula, key):
    value = HOSTILE[key]
    pillar = {"swarm": {"engine": {"install": True, "package": value, "service": value + "s"}}}
    rendered = formula.render("swarm.engine", pillar=pillar, grains={"os_family": value})
    expected = {
        "swarm engine package": {"pkg.installed": [{"name": value}]},
        "swarm engine service": {
            "service.running": [
                {"name": value + "s"},
                {"enable": True},
                {"require": [{"pkg": "swarm engine package"}]},
            ]
        },
    }
    assert_exactly(rendered, expected)

    rendered = formula.render(
        "swarm.engine", pillar={"swarm": {"engine": {"install": True}}}, grains={"os_family": value}
    )
    message = f"no default Docker package for os_family {value}: set pillar swarm:engine:package"
    assert_exactly(
        rendered,
        {
            "swarm engine package unknown": {
                "swarm.refused": [{"name": "swarm:engine:package"}, {"reason": message}]
            }
        },
    )


# ---------------------------------------------------------------------------
# Orchestrate: bootstrap.sls (rendered on the master, from the plan)


class Ids:
    """The minions of a plan: four managers (m1 the first), three workers."""

    def __init__(self, m1, m2, m3, m4, w1, w2, w3, hostnames=None, base=""):
        self.m1, self.m2, self.m3, self.m4 = m1, m2, m3, m4
        self.w1, self.w2, self.w3 = w1, w2, w3
        self.managers = [m2, m3, m4]
        self.workers = [w1, w2, w3]
        self.all_managers = [m1, *self.managers]
        self.everyone = [*self.all_managers, *self.workers]
        self.hostnames = hostnames or {m: m for m in self.everyone}
        self.base = base

    @classmethod
    def plain(cls):
        return cls("manager1", "manager2", "manager3", "manager4", "worker1", "worker2", "worker3")

    @classmethod
    def hostile(cls, base):
        """Every id and hostname made from ``base``, each one different."""
        managers = [base, "m2" + base, base + "m3", "m4" + base + "m4"]
        workers = ["w1" + base, base + "w2", "w3 " + base]
        hostnames = {m: "host " + m for m in managers + workers}
        return cls(*managers, *workers, hostnames=hostnames, base=base)

    def host(self, minion):
        return self.hostnames[minion]

    def nodes(self):
        nodes = {}
        for minion in self.everyone:
            manager = minion in self.all_managers
            labels = (
                {"zone": "a"} if manager else {"tier": "app" + self.base, self.base or "rack": "1"}
            )
            node = {"labels": labels, "role": "manager" if manager else "worker"}
            node["availability"] = "drain" if manager else "active"
            if minion == self.w3:
                node["labels_owned"] = [self.base + "*"]
            nodes[self.host(minion)] = node
        return nodes

    def plan(self, **changes):
        plan = {
            "first_manager": self.m1,
            "managers": list(self.managers),
            "workers": list(self.workers),
            "warnings": [],
            "existing_cluster": None,
            "to_join": [],
            "stale": [],
            "promote": [],
            "demote": [],
            "nodes": self.nodes(),
            "hostnames": dict(self.hostnames),
            "unsettled": [],
            "known_nodes": [],
        }
        plan.update(changes)
        return plan


MINE = {
    "addr_function": "swarm.manager_addr",
    "worker_token_function": "swarm.worker_token",
    "manager_token_function": "swarm.manager_token",
}


def bootstrap_pillar(base="", **more):
    swarm = {
        "managers": {"tgt": "manager*"},
        "workers": {"tgt": "worker*"},
        "init": {"default_addr_pool": ["198.19.0.0/17", base], "subnet_size": 24},
        "mine": dict(MINE),
        "check_wait": 30,
        "unlock_key": "SWMKEY-1-secret",
    }
    swarm.update(more)
    return {"swarm": swarm}


def render_bootstrap(formula, plan, pillar):
    seen = []

    def bootstrap_plan(settings, timeout=10):
        seen.append(copy.deepcopy(settings))
        planned = copy.deepcopy(plan)
        # as swarm.bootstrap_plan: the steps come with it
        if "error" in planned:
            planned["steps"] = bootstrap_steps.refused(planned["error"])
        else:
            planned["steps"] = bootstrap_steps.steps(planned, settings)
        return planned

    funcs = functions(pillar, "master", **{"swarm.bootstrap_plan": bootstrap_plan})
    grains = {"id": "master"}
    rendered = formula.render("swarm.bootstrap", pillar=pillar, grains=grains, funcs=funcs)
    (settings,) = seen
    # The pillar (over the defaults) as it is, unlock key included: no decision in the SLS.
    assert {k: settings[k] for k in pillar["swarm"]} == pillar["swarm"]
    requisites_resolve(rendered)
    return rendered


def expect_full_run(ids, plan, pillar):
    """The plan of full_plan: m1, m2, m4, w1 and w2 join (m2 and w2, stale, leave
    their swarm first); m3 and w3 are in place."""
    swarm = pillar["swarm"]
    mine = swarm["mine"]
    addr = {"addr_function": mine["addr_function"]}
    join = [
        {"role": "manager"},
        {"managers": ids.all_managers},
        addr,
        {"token_function": mine["manager_token_function"]},
    ]
    expected = {}
    for index, warning in enumerate(plan["warnings"], 1):
        expected[f"swarm warning {index}"] = {"test.show_notification": [{"text": warning}]}
    expected["swarm first manager"] = {
        "swarm.first_manager": [
            {"minion": ids.m1},
            {"options": swarm["init"]},
            {"availability": "drain"},
            {"failhard": True},
        ]
    }
    leave = [{"name": "swarm.leave"}]
    expected["swarm manager 1 leaves its stale swarm"] = {
        "salt.function": [
            *leave,
            {"tgt": [ids.m2]},
            {"tgt_type": "list"},
            {"kwarg": {"force": True}},
            {"failhard": True},
            {"require": [{"swarm": "swarm first manager"}]},
        ]
    }
    expected["swarm manager 1"] = {
        "swarm.members_joined": [
            {"name": ids.m2},
            {"members": [ids.m2]},
            *join,
            {"availability": "drain"},
            {"mine_update": True},
            {"failhard": True},
            {"require": [{"salt": "swarm manager 1 leaves its stale swarm"}]},
        ]
    }
    # m3 is in place: numbers count the managers that join.
    expected["swarm manager 2"] = {
        "swarm.members_joined": [
            {"name": ids.m4},
            {"members": [ids.m4]},
            *join,
            {"availability": "drain"},
            {"mine_update": True},
            {"failhard": True},
            {"require": [{"swarm": "swarm manager 1"}]},
        ]
    }
    expected["swarm stale workers leave"] = {
        "salt.function": [
            *leave,
            {"tgt": [ids.w2]},
            {"tgt_type": "list"},
            {"kwarg": {"force": True}},
            {"failhard": True},
            {"require": [{"swarm": "swarm manager 2"}]},
        ]
    }
    expected["swarm workers"] = {
        "swarm.members_joined": [
            {"members": [ids.w1, ids.w2]},
            {"role": "worker"},
            {"managers": ids.all_managers},
            addr,
            {"token_function": mine["worker_token_function"]},
            {
                "settle": {
                    "nodes": plan["nodes"],
                    "hostnames": plan["hostnames"],
                    "known": plan["known_nodes"],
                }
            },
            {"failhard": True},
            {"require": [{"salt": "swarm stale workers leave"}]},
        ]
    }
    expected["swarm conforms to pillar"] = conforms(ids, plan, swarm, {"swarm": "swarm workers"})
    return expected


def conforms(ids, plan, swarm, require=None, seen=None):
    args = [
        {
            "expect": {
                "first_manager": ids.m1,
                "managers": ids.managers,
                "workers": ids.workers,
                "hostnames": plan["hostnames"],
                "nodes": plan["nodes"],
            }
        },
        {"wait": swarm["check_wait"]},
    ]
    if seen:
        args.append({"seen": seen})
    if require:
        args.append({"require": [require]})
    return {"swarm.conforms": args}


def full_plan(ids, extra=""):
    return ids.plan(
        warnings=["4 managers: an even number tolerates no more failures" + extra],
        existing_cluster="c1d" + extra,
        to_join=[ids.m1, ids.m2, ids.m4, ids.w1, ids.w2],
        stale=[ids.m2, ids.w2],
        unsettled=[ids.host(ids.m1)],
        known_nodes=["n0de" + extra],
    )


def test_bootstrap_full_run(formula):
    ids = Ids.plain()
    plan, pillar = full_plan(ids), bootstrap_pillar("198.19.128.0/17")
    rendered = render_bootstrap(formula, plan, pillar)
    assert_exactly(rendered, expect_full_run(ids, plan, pillar))


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_bootstrap_full_run_hostile_ids_hostnames_and_pillar(formula, key):
    value = HOSTILE[key]
    ids = Ids.hostile(value)
    plan = full_plan(ids, value)
    mine = {
        "addr_function": value + "a",
        "worker_token_function": "w" + value,
        "manager_token_function": value + "m",
    }
    pillar = bootstrap_pillar(value, check_wait=value, mine=mine)
    rendered = render_bootstrap(formula, plan, pillar)
    assert_exactly(rendered, expect_full_run(ids, plan, pillar))


@pytest.mark.parametrize("key", ["plain", *HOSTILE_IDS])
def test_bootstrap_converged_runs_the_check_on_the_plans_reading(formula, key):
    value = "manager1" if key == "plain" else HOSTILE[key]
    ids = Ids.plain() if key == "plain" else Ids.hostile(value)
    seen = {"differences": [value], "manager": ids.m1}
    plan = ids.plan(seen=seen)
    pillar = bootstrap_pillar(value)
    rendered = render_bootstrap(formula, plan, pillar)
    expected = {"swarm conforms to pillar": conforms(ids, plan, pillar["swarm"], seen=seen)}
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", ["plain", *HOSTILE_IDS])
def test_bootstrap_settings_only(formula, key):
    value = "manager1" if key == "plain" else HOSTILE[key]
    ids = Ids.plain() if key == "plain" else Ids.hostile(value)
    plan = ids.plan(unsettled=[ids.host(ids.w3)])
    pillar = bootstrap_pillar(value)
    rendered = render_bootstrap(formula, plan, pillar)
    settings = {"swarm.settled": [{"nodes": plan["nodes"]}, {"managers": ids.all_managers}]}
    expected = {
        "swarm node settings": settings,
        "swarm conforms to pillar": conforms(
            ids, plan, pillar["swarm"], {"swarm": "swarm node settings"}
        ),
    }
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", ["plain", *HOSTILE_IDS])
def test_bootstrap_managers_join_without_workers(formula, key):
    value = "manager1" if key == "plain" else HOSTILE[key]
    ids = Ids.plain() if key == "plain" else Ids.hostile(value)
    plan = ids.plan(to_join=[ids.m3])
    pillar = bootstrap_pillar(value, init={}, mine={}, drain_managers=False)
    for node in plan["nodes"].values():
        node["availability"] = "active"
    rendered = render_bootstrap(formula, plan, pillar)
    expected = {
        "swarm first manager": {"swarm.first_manager": [{"minion": ids.m1}, {"failhard": True}]},
        "swarm manager 1": {
            "swarm.members_joined": [
                {"name": ids.m3},
                {"members": [ids.m3]},
                {"role": "manager"},
                {"managers": ids.all_managers},
                {"mine_update": True},
                {"failhard": True},
                {"require": [{"swarm": "swarm first manager"}]},
            ]
        },
        "swarm node settings": {
            "swarm.settled": [
                {"nodes": plan["nodes"]},
                {"managers": ids.all_managers},
                {"require": [{"swarm": "swarm manager 1"}]},
            ]
        },
        "swarm conforms to pillar": conforms(
            ids, plan, pillar["swarm"], {"swarm": "swarm node settings"}
        ),
    }
    assert_exactly(rendered, expected)


@pytest.mark.parametrize("key", ["plain", *HOSTILE_IDS])
def test_bootstrap_refused_plan(formula, key):
    value = "refused: minions not answering: worker9" if key == "plain" else HOSTILE[key]
    rendered = render_bootstrap(formula, {"error": value, "retcode": 1}, bootstrap_pillar())
    expected = {
        "swarm plan refused": {
            "swarm.refused": [{"name": "swarm plan"}, {"reason": value}, {"failhard": True}]
        }
    }
    assert_exactly(rendered, expected)


def test_bootstrap_targets_stale_members_by_exact_id(formula):
    """A stale member's id went into a glob target (`manager[12]` matches manager1
    and manager2, not itself) and the stale workers' ids into a comma-joined list
    target (`x,manager1` names manager1): both are lists of ids now."""
    ids = Ids("manager1", "*", "manager3", "manager4", "worker1", "x,manager1", "worker3")
    plan = full_plan(ids)
    rendered = render_bootstrap(formula, plan, bootstrap_pillar())
    leave = rendered["swarm manager 1 leaves its stale swarm"]["salt.function"]
    assert {"tgt": ["*"]} in leave and {"tgt_type": "list"} in leave
    leave = rendered["swarm stale workers leave"]["salt.function"]
    assert {"tgt": ["x,manager1"]} in leave and {"tgt_type": "list"} in leave


def test_bootstrap_an_overlong_hostname_fails_the_render(formula):
    """A hostname longer than YAML takes as a mapping key (1024 characters) ends the
    render with an error: nothing runs, nothing is injected."""
    ids = Ids.plain()
    ids.hostnames[ids.w1] = "w" * 1100 + INJECTION
    plan = ids.plan(to_join=[ids.w1])
    with pytest.raises(SaltRenderError):
        render_bootstrap(formula, plan, bootstrap_pillar())


# ---------------------------------------------------------------------------
# Workloads: apps.sls (pillar swarm:apps, on a manager)


def test_apps_sls_applies_networks_secrets_configs_then_services(formula):
    apps = {
        "services": {"web": {"image": "nginx:1.27", "replicas": 2, "wait": 60}},
        "networks": {"backend": {"attachable": True}},
        "secrets": {"db_password": {"contents_pillar": "app:db"}},
    }
    rendered = formula.render("swarm.apps", pillar={"swarm": {"apps": apps}})
    before = [{"swarm": "swarm apps network 1"}, {"swarm": "swarm apps secret 1"}]
    assert_exactly(
        rendered,
        {
            "swarm apps network 1": {
                "swarm.network_present": [{"name": "backend"}, {"attachable": True}]
            },
            "swarm apps secret 1": {
                "swarm.secret_present": [{"name": "db_password"}, {"contents_pillar": "app:db"}]
            },
            "swarm apps service 1": {
                "swarm.service_present": [
                    {"name": "web"},
                    {"spec": {"image": "nginx:1.27", "replicas": 2}},
                    {"wait": 60},
                    {"require": before},
                ]
            },
        },
    )
    requisites_resolve(rendered)


def test_apps_sls_without_apps_is_one_no_op(formula):
    rendered = formula.render("swarm.apps", pillar={})
    assert [list(chunk) for chunk in rendered.values()] == [["test.nop"]]


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_apps_sls_hostile_names_and_values_stay_data(formula, key):
    value = HOSTILE[key]
    apps = {
        "networks": {value: {"labels": {value: value}}},
        "services": {value: {"image": value, "env": {"A": value}}},
    }
    rendered = formula.render("swarm.apps", pillar={"swarm": {"apps": apps}})
    assert_exactly(
        rendered,
        {
            "swarm apps network 1": {
                "swarm.network_present": [{"name": value}, {"labels": {value: value}}]
            },
            "swarm apps service 1": {
                "swarm.service_present": [
                    {"name": value},
                    {"spec": {"image": value, "env": {"A": value}}},
                    {"require": [{"swarm": "swarm apps network 1"}]},
                ]
            },
        },
    )


def test_apps_sls_refuses_an_unknown_group(formula):
    with pytest.raises(SaltRenderError, match="unknown group 'service'"):
        formula.render("swarm.apps", pillar={"swarm": {"apps": {"service": {}}}})


# ---------------------------------------------------------------------------
# Orchestrate: maintain.sls (pillar maintain, the runner's arguments)


def _maintain(formula, options):
    from salt_swarm.core import maintain_steps

    funcs = functions({}, "master", **{"swarm.maintain_steps": maintain_steps.steps})
    pillar = {} if options is None else {"maintain": options}
    return formula.render("swarm.maintain", pillar=pillar, funcs=funcs)


def test_maintain_sls_is_one_maintained_step_with_the_given_arguments(formula):
    rendered = _maintain(formula, {"tgt": "worker*", "sls": "patch", "batch": 2})
    assert_exactly(
        rendered,
        {
            "swarm maintenance": {
                "swarm.maintained": [
                    {"name": "swarm maintenance"},
                    {"tgt": "worker*"},
                    {"sls": "patch"},
                    {"batch": 2},
                ]
            }
        },
    )


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (None, "give at least {tgt, sls}"),
        ({"tgt": "w*", "sl": "patch"}, "unknown key 'sl' (did you mean 'sls'?)"),
    ],
)
def test_maintain_sls_without_a_target_or_with_a_typo_is_one_refused_step(formula, options, reason):
    rendered = _maintain(formula, options)
    ((step_id, chunk),) = rendered.items()
    assert step_id == "swarm plan refused"
    assert reason in str(chunk["swarm.refused"])


@pytest.mark.parametrize("key", HOSTILE_IDS)
def test_maintain_sls_hostile_values_stay_data(formula, key):
    value = HOSTILE[key]
    rendered = _maintain(formula, {"tgt": value, "fun": value})
    assert rendered["swarm maintenance"]["swarm.maintained"][1:] == [
        {"tgt": value},
        {"function": value},
    ]


# ---------------------------------------------------------------------------
# Every SLS is covered


def test_every_sls_of_the_formula_is_rendered_here():
    found = {
        ".".join(path.relative_to(STATES).with_suffix("").parts) for path in STATES.rglob("*.sls")
    }
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [sls for sls in sorted(found) if f'"{sls}"' not in source]
    assert not missing, f"SLS files no test renders: {missing}"
