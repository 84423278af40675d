"""No Docker engine runs here, so check what can be checked: the compose file parses, every service runs a
command the image has, and the image's default command is one of them."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _dependencies():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[\[=<>]", d, maxsplit=1)[0].lower() for d in deps}


def _command_exists(argv):
    program = argv[0]
    if program == "python":
        return (ROOT / argv[1]).exists()
    return program in _dependencies()  # gunicorn, celery: console scripts of pinned runtime packages


def test_compose_has_the_production_roles_on_one_image():
    services = _compose()["services"]
    assert {"db", "redis", "web", "worker", "beat", "migrate"} <= services.keys()
    images = {services[name]["image"] for name in ("web", "worker", "beat", "migrate")}
    assert images == {"smm-panel:latest"}


def test_every_panel_service_runs_a_command_that_exists_in_the_image():
    services = _compose()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        assert _command_exists(services[name]["command"]), name


def test_panel_services_use_postgres_and_redis_and_require_a_secret():
    env = _compose()["services"]["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://")
    assert env["DEBUG"] == "0" and "?" in env["SECRET_KEY"]


def test_dockerfile_default_command_exists():
    cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert _command_exists(yaml.safe_load(cmd))


def test_the_access_log_never_shows_query_strings_where_api_keys_travel():
    namespace = {}
    exec((ROOT / "panel" / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 - our own config file
    assert namespace["accesslog"] == "-"
    assert "%(U)s" in namespace["access_log_format"]
    assert "%(r)s" not in namespace["access_log_format"] and "%(q)s" not in namespace["access_log_format"]
    assert "gunicorn.conf.py" in (ROOT / "Procfile.dev").read_text()
    assert _compose()["services"]["web"]["command"][-1] == "panel/gunicorn.conf.py"
