{#- A worker: join through the managers and token found in the mine
    (steps: salt_swarm/core/highstate_steps.py). -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/steps.jinja" import own with context %}
{{ own("swarm.worker", swarm) }}
