import pytest

from salt_swarm.core.client import DEFAULT_URL, DockerSettings, make_client
from salt_swarm.core.errors import DockerUnavailable


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
