"""Packaging is declared in pyproject.toml; this adds what it cannot say: the
formula (the repository's states/ folder) ships inside the package as
salt_swarm/formula, where the fileserver backend swarm_formula serves it from.
The lab, the benches and the tests are not shipped."""

from setuptools import find_packages, setup

FORMULA = {
    "salt_swarm.formula": "states",
    "salt_swarm.formula.swarm": "states/swarm",
    "salt_swarm.formula.swarm.reactor": "states/swarm/reactor",
}

setup(
    packages=[*find_packages(include=["salt_swarm", "salt_swarm.*"]), *FORMULA],
    package_dir=FORMULA,
    package_data={
        "salt_swarm.formula.swarm": ["*.sls", "*.jinja", "*.yaml"],
        "salt_swarm.formula.swarm.reactor": ["*.sls"],
    },
    include_package_data=False,
)
