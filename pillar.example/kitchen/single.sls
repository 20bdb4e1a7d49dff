# Test Kitchen suite `single` (kitchen.yml), layered over pillar.example/swarm.sls:
# the instance is minion `manager1`, which the example's `manager*` target makes a
# manager; naming it swarm:first_manager lets highstate (swarm, init.sls) create
# the swarm there, masterless, with no orchestrate.
swarm:
  first_manager: manager1

  # The container has one interface; the example's lab CIDR is not on it.
  advertise_addr: eth0

  init:
    # Kept apart from the 172.16.0.0/12 ranges Docker gives containers.
    default_addr_pool: [10.220.0.0/16]
    subnet_size: 24

  # swarm.engine installs docker.io and keeps the docker service running.
  engine:
    install: true
