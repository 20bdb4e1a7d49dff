"""The step of the orchestrate SLS ``swarm.maintain``: pillar ``maintain`` (given on
the command line) checked and handed to the state ``swarm.maintained``.

.. code-block:: bash

    salt-run state.orchestrate swarm.maintain pillar='{maintain: {tgt: "worker*", sls: patch}}'
"""

from __future__ import annotations

from salt_swarm.core.bootstrap_steps import refused
from salt_swarm.core.did_you_mean import unknown_key

KEYS = (
    "tgt",
    "tgt_type",
    "sls",
    "fun",
    "arg",
    "kwarg",
    "batch",
    "fresh",
    "budget_wait",
    "drain_wait",
    "up_wait",
    "expect_down",
    "timeout",
)

STATE_ARG = {"fun": "function"}


def steps(options) -> dict:
    """``{steps}`` for ``options`` (pillar ``maintain``): one ``swarm.maintained``
    step, or one refused step saying what is wrong."""
    if not isinstance(options, dict) or not options.get("tgt"):
        return {
            "steps": refused(
                "pillar maintain: give at least {tgt, sls} (or fun), e.g. "
                "pillar='{maintain: {tgt: \"worker*\", sls: patch}}'"
            )
        }
    for key in options:
        if key not in KEYS:
            return {"steps": refused(unknown_key("pillar maintain", key, KEYS))}
    # Salt's state system keeps "fun" for itself: the state takes it as "function".
    args = [
        {"name": "swarm maintenance"},
        *({STATE_ARG.get(k, k): options[k]} for k in KEYS if k in options),
    ]
    return {"steps": [{"id": "swarm maintenance", "state": "swarm.maintained", "args": args}]}
