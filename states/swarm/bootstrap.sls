{#- Orchestrate: salt-run state.orchestrate swarm.bootstrap
    1. plan (checks every role target before any change), 2. the first manager: init
    there unless it manages the swarm, its mine entries to the master (one call),
    3. the other managers one at a time, each drained as it joins (drain_managers)
    and sending its own mine entries, 4. all workers at once, with the node
    settings (roles, labels, anything still off) applied beside them by a manager
    (5. on their own when no worker joins), 6. a conformance check (runner
    swarm.check) that fails when the swarm differs.
    The master reads the managers' mine entries itself and hands each joining
    minion its join token sealed to that minion's key (swarm.members_joined).
    Members the plan finds in place get no join step, and node settings run only
    when a node differs: a converged swarm costs the plan alone (the check then
    uses the node list the plan read).
    Minion ids and hostnames come from the minions: they go into values only,
    through json(); state IDs are made of constants and counters. The plan decides
    the steps (salt_swarm/core/bootstrap_steps.py); this file writes them out. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/steps.jinja" import write %}
{#- The plan is made in this process (swarm.bootstrap_plan), not as a runner job;
    the unlock key is replaced by a stand-in there before the plan sees it. A refused
    plan comes with one failing step that lists every problem. #}
{{ write(salt["swarm.bootstrap_plan"](swarm)) }}
