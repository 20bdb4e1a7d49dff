{#- Membership through the token store in swarm:token_store, no master needed:
    `salt-call --local state.apply swarm` at boot. The managers elect one of them
    in the store to initialize the swarm; everyone else joins with the data it
    publishes there. Labels from grains (swarm:grain_labels) follow
    (steps: salt_swarm/core/highstate_steps.py). -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- from "swarm/steps.jinja" import own with context %}
{{ own("swarm.store", swarm) }}
