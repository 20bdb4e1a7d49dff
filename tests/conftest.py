import os

# Under pytest-xdist every worker runs its own lab side by side with the others: worker
# gw<n> on lab <base + n>, base being SALT_SWARM_LAB_INDEX (default 0). Set before
# lab.layout loads.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw"):
    _BASE = int(os.environ.get("SALT_SWARM_LAB_INDEX") or 0)
    os.environ["SALT_SWARM_LAB_INDEX"] = str(_BASE + int(_WORKER.removeprefix("gw")))
    os.environ.pop("SALT_SWARM_LAB_DIR", None)  # each lab in its own default folder

pytest_plugins = ["lab.fixtures", "tests.etcd_server"]
