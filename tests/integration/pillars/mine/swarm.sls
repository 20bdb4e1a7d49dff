# Mine entries for the join-through-the-mine test: host1 and host3 are managers,
# host2 a worker, host4 a minion outside the swarm. Joiners read the managers'
# entries only; the worker token is for members, the manager token for managers.
swarm:
  managers: {tgt: 'host1,host3', tgt_type: list}
mine_functions:
  swarm.manager_addr: []
  swarm.worker_token:
    - allow_tgt: host1,host2,host3
    - allow_tgt_type: list
  swarm.manager_token:
    - allow_tgt: host1,host3
    - allow_tgt_type: list
