"""The lab's state file names its lab: another lab's folder is refused, not handled."""

import json

import pytest

from lab.lab import Lab, LabError
from lab.layout import LAB_INDEX


def test_the_state_file_records_the_lab_index(tmp_path):
    lab = Lab(tmp_path)
    lab._save({"hosts": {}})
    assert json.loads(lab.paths.state_file.read_text())["lab_index"] == LAB_INDEX
    assert lab.hosts == []


def test_another_labs_folder_is_refused_naming_its_index(tmp_path):
    other = (LAB_INDEX + 1) % 10
    (tmp_path / "lab.json").write_text(json.dumps({"hosts": {}, "lab_index": other}))
    with pytest.raises(LabError, match=f"folder of lab {other}.*SALT_SWARM_LAB_INDEX={other}"):
        Lab(tmp_path).down()


def test_a_state_file_from_before_the_index_is_this_labs(tmp_path):
    (tmp_path / "lab.json").write_text(json.dumps({"hosts": {}}))
    assert Lab(tmp_path).hosts == []
