# Day-2 tests: host1-3 managers, any other host* a worker; short grace for lost minions.
swarm:
  managers: {tgt: 'host[1-3]'}
  workers: {tgt: 'host* and not host[1-3]', tgt_type: compound}
  advertise_addr: eth0
  init:
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
  labels:
    - tgt: 'host* and not host[1-3]'
      tgt_type: compound
      labels: {tier: app}
  lost_grace: 2
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: 'host*'
    - allow_tgt_type: glob
  swarm.manager_token:
    - allow_tgt: 'host[1-3]'
    - allow_tgt_type: glob
