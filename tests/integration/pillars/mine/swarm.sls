# Mine entries for the join-through-the-mine test: addresses for everyone, tokens
# only for host1..host3 (host4 plays a minion outside the swarm).
mine_functions:
  swarm.manager_addr: []
  swarm.join_tokens:
    - allow_tgt: host1,host2,host3
    - allow_tgt_type: list
