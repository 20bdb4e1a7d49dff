{#- Highstate entry point: this node converges alone, by its role in pillar.
    With swarm:token_store (an sdb URI), membership goes through that store and no
    master is needed (swarm.store). Otherwise a manager or worker joins an existing
    swarm through the mine; nobody creates a swarm here unless pillar names it
    `swarm:first_manager` (two managers running highstate at once must never make
    two swarms): build new swarms with the orchestrate `swarm.bootstrap`. A minion
    in neither role gets nothing. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- set module_version = salt["grains.get"]("salt_swarm_version") %}
{%- if module_version != swarm.formula_version %}
{{ raise("salt-swarm versions differ: this minion runs the extension " ~ (module_version or "(none, or older than 0.2)") ~ ", the formula served to it is " ~ swarm.formula_version ~ "; install the same salt-swarm on the master and the minions (docs/install.md)") }}
{%- endif %}
{%- set role = salt["swarm.own_role"]() %}

{%- if role and swarm.get("token_store") %}
include:
  - swarm.store
{%- elif role == "managers" %}
include:
{%-   if swarm.get("first_manager") == grains.id %}
  - swarm.first
{%-   else %}
  - swarm.manager
{%-   endif %}
{%- elif role == "workers" %}
include:
  - swarm.worker
{%- else %}
swarm not a member:
  test.nop:
    - name: this minion is in neither swarm:managers nor swarm:workers
{%- endif %}
