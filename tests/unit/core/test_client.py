import logging

import pytest

from salt_swarm.core import client as client_mod
from salt_swarm.core.client import DEFAULT_URL, DockerSettings, make_client
from salt_swarm.core.errors import DockerUnavailable
from salt_swarm.modules import swarm as module
from tests.etcd_server import free_port


def test_explicit_url_wins_over_environment():
    settings = DockerSettings(url="tcp://198.18.0.10:2376")
    assert settings.resolved_url({"DOCKER_HOST": "unix:///x.sock"}) == "tcp://198.18.0.10:2376"


def test_docker_host_used_when_no_url():
    assert DockerSettings().resolved_url({"DOCKER_HOST": "unix:///x.sock"}) == "unix:///x.sock"


def test_local_socket_is_the_default():
    assert DockerSettings().resolved_url({}) == DEFAULT_URL


def test_no_tls_without_cert_or_ca():
    assert DockerSettings().tls_config() is None


def test_cert_without_key_is_refused():
    with pytest.raises(DockerUnavailable, match="tls_cert and swarm:tls_key"):
        DockerSettings(tls_cert="/c.pem").tls_config()


def test_unreachable_daemon_names_the_url(tmp_path):
    url = f"unix://{tmp_path}/missing.sock"
    with pytest.raises(DockerUnavailable, match="missing.sock"):
        make_client(DockerSettings(url=url, timeout=2))


def test_tls_verify_true_without_a_ca_is_an_error_not_plain_tcp():
    for settings in (
        DockerSettings(url="tcp://198.18.0.10:2376", tls_verify=True),
        DockerSettings(url="tcp://198.18.0.10:2376", tls_verify=True, tls_cert="/c", tls_key="/k"),
    ):
        with pytest.raises(DockerUnavailable, match="swarm:tls_verify is true but swarm:tls_ca"):
            settings.tls_config()


def test_tls_verify_true_with_a_ca_checks_against_it():
    tls = DockerSettings(tls_verify=True, tls_ca=__file__).tls_config()
    assert tls.verify == __file__ and tls.ca_cert == __file__


def test_tls_verify_unset_keeps_the_old_behaviour():
    assert DockerSettings(url="tcp://198.18.0.10:2375").tls_config() is None
    assert DockerSettings(tls_ca=__file__).tls_config().verify == __file__
    assert DockerSettings(tls_verify=False).tls_config() is None
    assert DockerSettings(tls_verify=False, tls_ca=__file__).tls_config().verify is False


@pytest.mark.parametrize(
    "conf, expected",
    [
        ({}, None),
        ({"tls_verify": True}, True),
        ({"tls_verify": "no"}, False),
        ({"tls_verify": ""}, None),
    ],
)
def test_the_module_tells_tls_verify_unset_from_true(monkeypatch, conf, expected):
    def config_get(key, default=None):
        return conf.get(key.removeprefix("swarm:"), default)

    monkeypatch.setattr(module, "__salt__", {"config.get": config_get}, raising=False)
    assert module._settings().tls_verify is expected


def test_a_tcp_url_without_tls_warns_once_per_process(monkeypatch, caplog):
    monkeypatch.setattr(client_mod, "_WARNED_PLAIN", set())
    url = f"tcp://127.0.0.1:{free_port()}"  # nothing listens: the client fails after the warning
    caplog.set_level(logging.WARNING, logger="salt_swarm.core.client")
    for _ in range(2):
        with pytest.raises(DockerUnavailable, match="cannot reach the Docker daemon"):
            make_client(DockerSettings(url=url, timeout=2))
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert f"the Docker API at {url} is reached over plain TCP without TLS" in warnings[0]
    assert "unauthenticated" in warnings[0]


def test_no_plain_tcp_warning_for_a_socket_or_with_tls(monkeypatch, caplog):
    monkeypatch.setattr(client_mod, "_WARNED_PLAIN", set())
    caplog.set_level(logging.WARNING, logger="salt_swarm.core.client")
    assert not client_mod.warn_if_plain_tcp("unix:///var/run/docker.sock")
    assert not client_mod.warn_if_plain_tcp("ssh://ops@10.0.0.5")
    with pytest.raises(DockerUnavailable):
        make_client(DockerSettings(url="tcp://127.0.0.1:1", tls_verify=True))  # refused first
    assert caplog.records == []
