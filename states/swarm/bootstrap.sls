{#- Orchestrate: salt-run state.orchestrate swarm.bootstrap
    1. plan (checks every role target before any change), 2. first manager,
    3. every manager's mine entries to the master (stored when the step returns),
    4. the other managers one at a time, each sending its mine entries as it joins
    (swarm.manager with mine_update), 5. all workers at once,
    6. node settings (roles, drain managers, labels) through a manager that answers,
    7. a conformance check (runner swarm.check) that fails when the swarm differs.
    Members the plan finds in place get no join step (the first manager too), and
    node settings run only when a node differs: a converged swarm costs the plan
    alone (the check then uses the node list the plan read). -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- macro after(ns) %}
{%- if ns.previous %}
    - require:
      - {{ ns.previous_kind }}: {{ ns.previous }}
{%- endif %}
{%- endmacro %}
{#- The plan checks every setting, but the unlock key must not travel in a runner
    job's arguments (the job cache keeps them): only whether it looks like one. #}
{%- set settings = {} %}
{%- for key, value in swarm.items() %}
{%-   if key == "unlock_key" and value %}
{%-     set shaped = value is string and value.startswith("SWMKEY-1-") %}
{%-     do settings.update({key: "SWMKEY-1-hidden" if shaped else "not an unlock key"}) %}
{%-   else %}
{%-     do settings.update({key: value}) %}
{%-   endif %}
{%- endfor %}
{%- set plan = salt["saltutil.runner"]("swarm.plan", settings=settings) %}
{%- if plan.get("error") %}
swarm plan refused:
  test.fail_without_changes:
    - name: {{ plan.error | json }}
    - failhard: True
{%- else %}
{%- set first = plan.first_manager %}
{%- for warning in plan.warnings %}
swarm warning {{ loop.index }}:
  test.show_notification:
    - text: {{ warning | json }}
{%- endfor %}
{%- set ns = namespace(previous=none, previous_kind="salt") %}
{%- if first in plan.to_join %}

swarm first manager:
  salt.state:
    - tgt: {{ first }}
    - sls: swarm.first
    - failhard: True
{%- set ns.previous = "swarm first manager" %}
{%- endif %}

{#- Mine refreshes and waits only where someone still has to join: a converged
    swarm re-runs with no changes at all. -#}
{%- if plan.to_join %}

{#- Every manager sends its mine entries, and the master has stored them when the
    step returns (swarm.mine_refresh): one that used to manage another swarm must not
    keep serving that swarm's tokens from the mine. Joiners read the managers'
    entries only (swarm:mine:target defaults to the managers target). #}
swarm managers mine:
  salt.function:
    - name: swarm.mine_refresh
    - tgt: {{ ([first] + plan.managers) | join(",") }}
    - tgt_type: list
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm managers mine" %}
{%- endif %}

{#- Members already in place are skipped: their states would find nothing to do. #}
{%- for manager in plan.managers if manager in plan.to_join %}
{%- if manager in plan.stale %}

{#- Removed from the swarm while it was down (swarm.recover): it still believes it
    is a member, so it leaves by force before joining again. #}
swarm manager {{ manager }} leaves its stale swarm:
  salt.function:
    - name: swarm.leave
    - tgt: {{ manager }}
    - kwarg: {force: True}
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm manager " ~ manager ~ " leaves its stale swarm" %}
{%- endif %}

swarm manager {{ manager }}:
  salt.state:
    - tgt: {{ manager }}
    - sls: swarm.manager
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm manager " ~ manager %}

{%- endfor %}

{%- set stale_workers = plan.workers | select("in", plan.stale) | list %}
{%- if stale_workers %}

swarm stale workers leave:
  salt.function:
    - name: swarm.leave
    - tgt: {{ stale_workers | join(",") }}
    - tgt_type: list
    - kwarg: {force: True}
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm stale workers leave" %}
{%- endif %}
{%- set joining_workers = plan.workers | select("in", plan.to_join) | list %}
{%- if joining_workers %}

swarm workers:
  {#- One function call per worker, all at once: no state compile, no pillar
      render on the master for each of them. #}
  salt.function:
    - name: swarm.join
    - tgt: {{ joining_workers | join(",") }}
    - tgt_type: list
    - kwarg: {role: worker, mine_timeout: {{ swarm.mine_timeout }}}
    - expect_minions: True
    - failhard: True
{{- after(ns) }}
{%- set ns.previous = "swarm workers" %}
{%- endif %}

{%- if plan.to_join or plan.unsettled %}

swarm node settings:
  swarm.nodes_settled:
    - nodes: {{ plan.nodes | json }}
    - managers: {{ ([first] + plan.managers) | json }}
{{- after(ns) }}
{%- set ns.previous = "swarm node settings" %}
{%- set ns.previous_kind = "swarm" %}
{%- endif %}

swarm conforms to pillar:
  swarm.conforms:
    - expect:
        first_manager: {{ first | json }}
        managers: {{ plan.managers | json }}
        workers: {{ plan.workers | json }}
        hostnames: {{ plan.hostnames | json }}
        nodes: {{ plan.nodes | json }}
    - wait: {{ swarm.check_wait }}
{%- if plan.get("seen") %}
    {#- Nothing to change: the plan's own reading of the nodes is the check. #}
    - seen: {{ plan.seen | json }}
{%- endif %}
{{- after(ns) }}
{%- endif %}
