# Test Kitchen suite `ha` (kitchen.yml), layered over pillar.example/swarm.sls:
# the pillar of a highly available swarm (three managers, two workers) as seen by
# its first manager. Kitchen builds each instance alone and masterless, so only
# `manager1` exists: the suite proves that the first manager of this layout comes
# up as the swarm's leader with autolock on and the settings below. The joins of
# manager2, manager3 and the workers need a master and other hosts: the lab tests
# (tests/integration/test_bootstrap.py) run them.
swarm:
  managers: {tgt: [manager1, manager2, manager3], tgt_type: list}
  workers: {tgt: [worker1, worker2], tgt_type: list}
  first_manager: manager1

  advertise_addr: eth0

  init:
    default_addr_pool: [10.220.0.0/16]
    subnet_size: 24
    # Managers keep the Raft log encrypted; after a daemon restart a manager stays
    # locked until unlocked with the key (swarm.unlock_key), kept in
    # swarm:unlock_key (docs/security.md). Kitchen never restarts the daemon.
    autolock: true

  engine:
    install: true

mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: manager1,manager2,manager3,worker1,worker2
    - allow_tgt_type: list
  swarm.manager_token:
    - allow_tgt: manager1,manager2,manager3
    - allow_tgt_type: list
