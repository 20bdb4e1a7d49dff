{#- Membership through the token store in swarm:token_store, no master needed:
    `salt-call --local state.apply swarm` at boot. The managers elect one of them
    in the store to initialize the swarm; everyone else joins with the data it
    publishes there. Labels from grains (swarm:grain_labels) follow. -#}
{%- from "swarm/map.jinja" import swarm with context %}
{%- set role = salt["swarm.own_role"]() %}
{%- from "swarm/json.jinja" import json %}
{%- if not role %}
{{ raise("swarm.store: this minion is in neither swarm:managers nor swarm:workers") }}
{%- endif %}
swarm member through the token store:
  swarm.store_joined:
    - role: {{ "manager" if role == "managers" else "worker" }}
    - store: {{ json(swarm.token_store) }}
    - advertise_addr: {{ json(swarm.advertise_addr or none) }}
{%- if role == "managers" %}
    - listen_addr: {{ json(swarm.listen_addr or none) }}
{%- endif %}
