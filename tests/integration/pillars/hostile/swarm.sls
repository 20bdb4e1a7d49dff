# The hostile-minion tests: host1-3 managers, host4 and host5 workers (host4 plays a
# compromised worker), outsider1 a minion in no role. Mine entries as documented:
# the worker token for members, the manager token for managers only.
swarm:
  managers: {tgt: 'host[1-3]'}
  workers: {tgt: 'host4,host5', tgt_type: list}
  advertise_addr: eth0
  init:
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
  labels:
    - tgt: 'host4,host5'
      tgt_type: list
      labels: {tier: app}
  lost_grace: 2
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: 'host[1-5]'
    - allow_tgt_type: glob
  swarm.manager_token:
    - allow_tgt: 'host[1-3]'
    - allow_tgt_type: glob
