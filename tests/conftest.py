pytest_plugins = ["salt_swarm.lab.fixtures", "tests.etcd_server"]
