{#- The first manager: initialize the swarm here unless this node manages one
    (steps: salt_swarm/core/highstate_steps.py). -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/steps.jinja" import own with context %}
{{ own("swarm.first", swarm) }}
