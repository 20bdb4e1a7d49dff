{#- A manager: join through the managers and token found in the mine. -#}
{%- from "swarm/map.jinja" import swarm with context %}
swarm manager:
  swarm.manager:
    - advertise_addr: {{ (swarm.advertise_addr or none) | json }}
    - listen_addr: {{ (swarm.listen_addr or none) | json }}
    - mine_update: True
    - mine_timeout: {{ swarm.mine_timeout }}
