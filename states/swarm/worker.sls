{#- A worker: join through the managers and token found in the mine. -#}
{%- from "swarm/map.jinja" import swarm with context %}
swarm worker:
  swarm.worker:
    - advertise_addr: {{ (swarm.advertise_addr or none) | json }}
    - mine_timeout: {{ swarm.mine_timeout }}
