"""Which TLS options a broker URI gets, and that nameko's own configuration receives the same ones
as our connections (deploy.serve puts them in AMQP_SSL; deploy/config.yaml reads it)."""

import ssl
import warnings

import yaml

from deploy.serve import CONFIG
from shared import broker

with warnings.catch_warnings():  # nameko's CLI module still imports pkg_resources
    warnings.simplefilter("ignore", UserWarning)
    from nameko.cli.main import IMPLICIT_ENV_VAR_MATCHER, env_var_constructor


def test_an_amqps_uri_checks_the_certificate_and_the_host_name(monkeypatch):
    monkeypatch.delenv("AMQP_CLIENT_CERT_FILE", raising=False)
    options = broker.ssl_options("amqps://u:p@mynacar-rabbitmq.rabbitmq.svc:5671/mynacar", "/ca.crt")
    assert options == {
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": "mynacar-rabbitmq.rabbitmq.svc",
        "ca_certs": "/ca.crt",
    }


def test_without_a_ca_file_the_systems_cas_are_used(monkeypatch):
    monkeypatch.delenv("AMQP_CA_FILE", raising=False)
    assert "ca_certs" not in broker.ssl_options("amqps://u:p@broker.example.jp/")
    monkeypatch.setenv("AMQP_CA_FILE", "/etc/ca.pem")
    assert broker.ssl_options("amqps://u:p@broker.example.jp/")["ca_certs"] == "/etc/ca.pem"


def test_a_plain_uri_gets_no_tls():
    assert broker.ssl_options("amqp://guest:guest@localhost:5672/") is None
    assert not broker.connect("amqp://guest:guest@localhost:5672/").ssl


class NamekoLoader(yaml.SafeLoader):
    """`nameko run`'s YAML with ${ENV:default}, on a loader of its own (nameko's setup is global)."""


NamekoLoader.add_constructor("!env_var", env_var_constructor)
NamekoLoader.add_implicit_resolver("!env_var", IMPLICIT_ENV_VAR_MATCHER, None)


def nameko_config() -> dict:
    return yaml.load(CONFIG.read_text(), Loader=NamekoLoader)  # a SafeLoader underneath


def test_nameko_reads_the_same_options_from_its_configuration(monkeypatch):
    uri = "amqps://u:p@broker.example.jp:5671/"
    monkeypatch.setenv("AMQP_CA_FILE", "/etc/ca.pem")
    monkeypatch.setenv("AMQP_URI", uri)
    monkeypatch.setenv("AMQP_SSL", broker.nameko_ssl_setting(uri))
    config = nameko_config()
    assert config["AMQP_URI"] == uri and config["AMQP_SSL"] == broker.ssl_options(uri)

    monkeypatch.setenv("AMQP_SSL", broker.nameko_ssl_setting("amqp://guest:guest@localhost:5672/"))
    assert nameko_config()["AMQP_SSL"] is None


def test_a_client_certificate_is_shown_when_one_is_configured(monkeypatch):
    uri = "amqps://u:p@broker.example.jp/"
    monkeypatch.setenv("AMQP_CLIENT_CERT_FILE", "/etc/mynacar/rabbitmq-client/tls.crt")
    monkeypatch.setenv("AMQP_CLIENT_KEY_FILE", "/etc/mynacar/rabbitmq-client/tls.key")
    options = broker.ssl_options(uri)
    assert options["certfile"] == "/etc/mynacar/rabbitmq-client/tls.crt"
    assert options["keyfile"] == "/etc/mynacar/rabbitmq-client/tls.key"
    assert "certfile" not in broker.ssl_options(uri, client_cert=("", ""))
