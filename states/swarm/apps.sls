{#- Workloads from pillar swarm:apps, applied on one manager (`salt manager1
    state.apply swarm.apps`; the orchestrate swarm.bootstrap runs it on the first
    manager after its check): overlay networks, secrets and configs (in versions),
    then services (docs/workloads.md). Steps: salt_swarm/core/highstate_steps.py. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/steps.jinja" import own with context %}
{{ own("swarm.apps", swarm) }}
