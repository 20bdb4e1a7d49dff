from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = {}
exec((HERE / "salt_swarm" / "version.py").read_text(), VERSION)

setup(
    name="salt-swarm",
    version=VERSION["__version__"],
    description="Docker Swarm for SaltStack: execution, state and runner modules plus a formula",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["salt_swarm", "salt_swarm.*"]),
    include_package_data=True,
    install_requires=[
        "salt>=3008,<3009",
        "docker>=7",
        "pyyaml",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist>=3", "ruff", "pytest-testinfra"],
    },
    entry_points={
        # New-style Salt extension: Salt looks for `modules/`, `states/`, `runners/`
        # (one folder per loader type) inside the package named here.
        "salt.loader": ["salt_swarm = salt_swarm"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Salt",
        "Topic :: System :: Clustering",
        "License :: OSI Approved :: Apache Software License",
    ],
)
