# salt-swarm example pillar, used by the lab and the demo (scripts/demo).
# Every key of the formula lives under `swarm:`; defaults are in
# states/swarm/defaults.yaml.

swarm:
  # Who is a manager and who is a worker: any Salt target.
  #   tgt_type: glob (default), pcre, list, grain, grain_pcre, pillar, compound,
  #   or nodegroup (e.g. {tgt: swarmmanager, tgt_type: nodegroup} with the
  #   master's `nodegroups:` setting, as the classic recipe does).
  # Use an odd number of managers: 1, 3, 5 or 7.
  managers: {tgt: 'manager*'}
  workers: {tgt: 'worker*'}

  # The address each node advertises, resolved on the node: an interface name
  # (eth0), a CIDR (the node's one address inside it), or an address.
  advertise_addr: 198.18.0.0/16

  # Options that can only be set when the swarm is created (swarm.init).
  init:
    # Overlay networks are carved from these pools (Docker's default is
    # 10.0.0.0/8). The lab keeps everything in 198.18.0.0/15.
    default_addr_pool: [198.19.0.0/17]
    subnet_size: 24
    # data_path_port: 4789
    # autolock: true      # then keep the key in swarm:unlock_key (see the docs)

  # Managers get availability `drain` so no tasks run on them.
  drain_managers: true

  # Node labels by target; later rules add to (and override) earlier ones.
  labels:
    - tgt: 'worker*'
      labels: {tier: app}
    - tgt: worker1
      labels: {zone: a}

  # How long a joining node waits for a manager to appear in the mine (seconds).
  mine_timeout: 60

  # How long the last step of swarm.bootstrap (the conformance check) waits for
  # nodes that just joined to report Ready (seconds).
  check_wait: 30

  # Reactor: a lost minion's node is drained at once and removed when it is still
  # down after this many seconds (salt-run swarm.retire; see docs/operations.md).
  lost_grace: 300

# The mine carries the managers' addresses and the join tokens, each token in an
# entry of its own with its own readers (allow_tgt, checked on the master): the
# worker token lets anyone join as a worker, so members only; the manager token
# lets anyone join as a manager, which controls the swarm, so managers only. Keep
# these targets in step with the role targets above (the plan checks them). Never
# target them by grain: a minion sets its own grains.
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: 'manager* or worker*'
    - allow_tgt_type: compound
  swarm.manager_token:
    - allow_tgt: 'manager*'
    - allow_tgt_type: glob
