{#- Run on a manager: role, availability and labels of the nodes named in pillar
    `swarm_nodes` ({hostname: {role: ..., availability: ..., labels: {...}}}), as
    `salt-run swarm.plan` computes them from the role targets and `swarm:labels`.
    The orchestrate itself uses the state swarm.settled (any answering
    manager, promotions before demotions); this SLS is for running by hand. -#}
{%- from "swarm/json.jinja" import json %}

{#- First: a rebuilt host joins as a new node; its old self goes once Down. #}
swarm stale twin nodes:
  swarm.twins_pruned:
    - name: stale twins

{%- for hostname, want in salt["pillar.get"]("swarm_nodes", {}) | dictsort %}
swarm node {{ loop.index }}:
  swarm.node:
    - require:
      - swarm: swarm stale twin nodes
    - name: {{ json(hostname) }}
{%- if want.get("role") %}
    - role: {{ json(want.role) }}
{%- endif %}
{%- if want.get("availability") %}
    - availability: {{ json(want.availability) }}
{%- endif %}
{%- if want.get("labels") %}
    - labels: {{ json(want.labels) }}
{%- endif %}
{%- endfor %}

