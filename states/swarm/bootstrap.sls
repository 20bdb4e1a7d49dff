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
    through json(); state IDs are made of constants and counters. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/json.jinja" import json %}
{%- macro after(ns) %}
{%- if ns.previous %}
    - require:
      - {{ ns.previous_kind }}: {{ json(ns.previous) }}
{%- endif %}
{%- endmacro %}
{#- The plan checks every setting, but it needs only whether the unlock key looks
    like one, so the key itself is not handed to it. It is made in this process
    (swarm.bootstrap_plan), not as a runner job. #}
{%- set settings = {} %}
{%- for key, value in swarm.items() %}
{%-   if key == "unlock_key" and value %}
{%-     set shaped = value is string and value.startswith("SWMKEY-1-") %}
{%-     do settings.update({key: "SWMKEY-1-hidden" if shaped else "not an unlock key"}) %}
{%-   else %}
{%-     do settings.update({key: value}) %}
{%-   endif %}
{%- endfor %}
{%- set plan = salt["swarm.bootstrap_plan"](settings) %}
{%- if plan.get("error") %}
swarm plan refused:
  swarm.refused:
    - name: swarm plan
    - reason: {{ json(plan.error) }}
    - failhard: True
{%- else %}
{%- set first = plan.first_manager %}
{%- set all_managers = [first] + plan.managers %}
{%- set mine_names = swarm.get("mine") or {} %}
{%- macro availability(minion) %}
{%- set wanted = plan.nodes[plan.hostnames[minion]].availability %}
{%- if wanted != "active" %}
    - availability: {{ json(wanted) }}
{%- endif %}
{%- endmacro %}
{%- macro join_args(role) %}
{%- set token_function = mine_names.get(role ~ "_token_function") %}
    - role: {{ role }}
    - managers: {{ json(all_managers) }}
{%- if mine_names.get("addr_function") %}
    - addr_function: {{ json(mine_names.addr_function) }}
{%- endif %}
{%- if token_function %}
    - token_function: {{ json(token_function) }}
{%- endif %}
{%- endmacro %}
{%- for warning in plan.warnings %}
swarm warning {{ loop.index }}:
  test.show_notification:
    - text: {{ json(warning) }}
{%- endfor %}
{%- set ns = namespace(previous=none, previous_kind="swarm") %}
{%- if plan.to_join %}

{#- Whenever anyone joins: the first manager is initialized when in no swarm, and its
    entries in the master's mine are fresh (tokens rotated since the last run, or a
    swarm made anew) before anyone reads them. #}
swarm first manager:
  swarm.first_manager:
    - minion: {{ json(first) }}
{%- set init_options = {} %}
{%- for key in ("default_addr_pool", "subnet_size", "data_path_port", "autolock") %}
{%-   if swarm.init.get(key) is not none %}
{%-     do init_options.update({key: swarm.init[key]}) %}
{%-   endif %}
{%- endfor %}
{%- if init_options %}
    - options: {{ json(init_options) }}
{%- endif %}
{{- availability(first) }}
    - failhard: True
{%- set ns.previous = "swarm first manager" %}
{%- endif %}

{#- Members already in place are skipped: their join would find nothing to do. #}
{%- for manager in plan.managers if manager in plan.to_join %}
{%- if manager in plan.stale %}

{#- Removed from the swarm while it was down (swarm.recover): it still believes it
    is a member, so it leaves by force before joining again. #}
swarm manager {{ loop.index }} leaves its stale swarm:
  salt.function:
    - name: swarm.leave
    - tgt: [{{ json(manager) }}]
    - tgt_type: list
    - kwarg: {force: True}
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm manager " ~ loop.index ~ " leaves its stale swarm" %}
{%- set ns.previous_kind = "salt" %}
{%- endif %}

swarm manager {{ loop.index }}:
  swarm.members_joined:
    - name: {{ json(manager) }}
    - members: [{{ json(manager) }}]
{{- join_args("manager") }}
{{- availability(manager) }}
    - mine_update: True
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm manager " ~ loop.index %}
{%- set ns.previous_kind = "swarm" %}

{%- endfor %}

{%- set stale_workers = plan.workers | select("in", plan.stale) | list %}
{%- if stale_workers %}

swarm stale workers leave:
  salt.function:
    - name: swarm.leave
    - tgt: {{ json(stale_workers) }}
    - tgt_type: list
    - kwarg: {force: True}
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm stale workers leave" %}
{%- set ns.previous_kind = "salt" %}
{%- endif %}
{%- set joining_workers = plan.workers | select("in", plan.to_join) | list %}
{%- if joining_workers %}

swarm workers:
  {#- One publish for all of them: no state compile, no pillar render per worker.
      The node settings go beside it: the manager labels the nodes as they appear. #}
  swarm.members_joined:
    - members: {{ json(joining_workers) }}
{{- join_args("worker") }}
    - settle:
        nodes: {{ json(plan.nodes) }}
        hostnames: {{ json(plan.hostnames) }}
        known: {{ json(plan.known_nodes) }}
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm workers" %}
{%- set ns.previous_kind = "swarm" %}
{%- endif %}

{%- if not joining_workers and (plan.to_join or plan.unsettled) %}

swarm node settings:
  swarm.nodes_settled:
    - nodes: {{ json(plan.nodes) }}
    - managers: {{ json(all_managers) }}
{{- after(ns) }}
{%- set ns.previous = "swarm node settings" %}
{%- set ns.previous_kind = "swarm" %}
{%- endif %}

swarm conforms to pillar:
  swarm.conforms:
    - expect:
        first_manager: {{ json(first) }}
        managers: {{ json(plan.managers) }}
        workers: {{ json(plan.workers) }}
        hostnames: {{ json(plan.hostnames) }}
        nodes: {{ json(plan.nodes) }}
    - wait: {{ json(swarm.check_wait) }}
{%- if plan.get("seen") %}
    {#- Nothing to change: the plan's own reading of the nodes is the check. #}
    - seen: {{ json(plan.seen) }}
{%- endif %}
{{- after(ns) }}
{%- endif %}
