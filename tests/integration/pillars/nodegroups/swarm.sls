# The classic recipe's layout: roles are the master's nodegroups (the lab's master
# defines swarmmanager = manager* and swarmworker = worker*).
swarm:
  managers: {tgt: swarmmanager, tgt_type: nodegroup}
  workers: {tgt: swarmworker, tgt_type: nodegroup}
  advertise_addr: 198.18.0.0/16
  init:
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
  labels:
    - {tgt: swarmworker, tgt_type: nodegroup, labels: {tier: app}}
    - {tgt: 'worker1 or worker2', tgt_type: compound, labels: {zone: a}}
    - {tgt: 'E@worker3$', tgt_type: compound, labels: {zone: b}}
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: 'N@swarmmanager or N@swarmworker'
    - allow_tgt_type: compound
  swarm.manager_token:
    - allow_tgt: swarmmanager
    - allow_tgt_type: nodegroup
