{#- Highstate entry point: this node converges alone, by its role in pillar.
    A manager or worker joins an existing swarm through the mine; nobody creates a
    swarm here unless pillar names it `swarm:first_manager` (two managers running
    highstate at once must never make two swarms): build new swarms with the
    orchestrate `swarm.bootstrap`. A minion in neither role gets nothing. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- set ns = namespace(role=none) %}
{%- for role in ("managers", "workers") %}
{%-   set target = swarm.get(role) or {} %}
{%-   if target is string %}{% set target = {"tgt": target} %}{% endif %}
{%-   if target.get("tgt") %}
{%-     set tgt_type = target.get("tgt_type", "glob") %}
{%-     if tgt_type == "nodegroup" %}
{{ raise("swarm:" ~ role ~ ": nodegroup targets are known to the master only; highstate needs glob, list, grain, pcre, pillar or compound") }}
{%-     endif %}
{%-     if ns.role is none and salt["match." ~ tgt_type](target.tgt) %}
{%-       set ns.role = role %}
{%-     endif %}
{%-   endif %}
{%- endfor %}

{%- if ns.role == "managers" %}
include:
{%-   if swarm.get("first_manager") == grains.id %}
  - swarm.first
{%-   else %}
  - swarm.manager
{%-   endif %}
{%- elif ns.role == "workers" %}
include:
  - swarm.worker
{%- else %}
swarm not a member:
  test.nop:
    - name: this minion is in neither swarm:managers nor swarm:workers
{%- endif %}
