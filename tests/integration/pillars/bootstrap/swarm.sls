# The bootstrap test: host1-3 managers, host4 worker (the lab's host names).
swarm:
  managers: {tgt: 'host[1-3]'}
  workers: {tgt: host4}
  advertise_addr: eth0
  init:
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
  labels:
    - tgt: host4
      labels: {zone: a, tier: app}
    - tgt: 'host*'
      labels: {lab: 'yes'}
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: 'host*'
    - allow_tgt_type: glob
  swarm.manager_token:
    - allow_tgt: 'host[1-3]'
    - allow_tgt_type: glob
