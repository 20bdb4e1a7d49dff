import os

# Under pytest-xdist every worker runs its own lab side by side with the others: gw0 on
# lab 0, gw1 on lab 1 (SALT_SWARM_LAB_INDEX). Set before salt_swarm.lab.layout loads.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw"):
    os.environ["SALT_SWARM_LAB_INDEX"] = _WORKER.removeprefix("gw")
    os.environ.pop("SALT_SWARM_LAB_DIR", None)

pytest_plugins = ["salt_swarm.lab.fixtures", "tests.etcd_server"]
