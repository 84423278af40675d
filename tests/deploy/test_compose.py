"""docker-compose.yml is a valid Compose file with the stack the README describes. No Docker engine runs here,
so it is checked against the Compose Specification's JSON schema and by its structure, not by running it.

compose-spec.json beside this file is the schema of github.com/compose-spec/compose-spec (Apache-2.0,
LICENSE.compose-spec beside it), as vendored by check-jsonschema 0.39.0 from PyPI
(check_jsonschema/builtin_schemas/vendor/compose-spec.json, sha256 d549057e...). To update it, take the same
file from a newer check-jsonschema wheel."""

import copy
import hashlib

import jsonschema
import pytest

from panel import health

from .stack import HERE, IMAGE, compose, compose_schema, healthcheck_argv, panel_services, services

LONG_RUNNING = ("db", "redis", "web", "worker", "beat")


def _validator():
    schema = compose_schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)
    return jsonschema.validators.validator_for(schema)(schema)


def test_the_vendored_schema_is_the_one_named():
    digest = hashlib.sha256((HERE / "compose-spec.json").read_bytes()).hexdigest()
    assert digest.startswith("d549057e")


def test_the_compose_file_is_valid_against_the_compose_spec_schema():
    errors = sorted(_validator().iter_errors(compose()), key=lambda error: list(error.path))
    assert not errors, [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors]


@pytest.mark.parametrize("mistake", [
    lambda c: c["services"]["web"].update(restart_policy="always"),          # not a Compose key
    lambda c: c["services"]["worker"]["depends_on"]["db"].update(condition="service_ready"),
    lambda c: c["services"]["web"]["healthcheck"].update(command=["true"]),
])
def test_the_schema_catches_a_mistake(mistake):
    broken = copy.deepcopy(compose())
    mistake(broken)
    assert list(_validator().iter_errors(broken))


def test_the_stack_has_every_role_on_one_image_built_here():
    assert set(services()) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert set(panel_services()) == {"migrate", "web", "worker", "beat"}
    assert all(service["build"] == "." for service in panel_services().values())
    assert services()["db"]["image"].startswith("postgres:")
    assert services()["redis"]["image"].startswith("redis:")


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck_and_restarts(name):
    service = services()[name]
    assert service["restart"] in ("always", "unless-stopped")
    assert healthcheck_argv(service), f"{name} has no healthcheck"
    check = service["healthcheck"]
    assert not check.get("disable")
    assert {"interval", "timeout", "retries"} <= check.keys()


def test_migrate_runs_once_and_its_exit_status_is_its_health():
    migrate = services()["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["healthcheck"] == {"disable": True}
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_the_panel_starts_after_the_database_redis_and_migrations(name):
    assert services()[name]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_the_database_keeps_its_data_on_a_named_volume():
    volumes = services()["db"]["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in volumes
    assert "pgdata" in compose()["volumes"]
    assert "redisdata:/data" in services()["redis"]["volumes"] and "redisdata" in compose()["volumes"]


def test_the_worker_can_be_scaled():
    worker = services()["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert not any("container_name" in service for service in panel_services().values())


def test_there_is_exactly_one_beat():
    beats = [name for name, service in panel_services().items() if "beat" in service["command"]]
    assert beats == ["beat"]
    beat = services()["beat"]
    assert beat["command"][:4] == ["celery", "-A", "panel", "beat"]
    assert beat.get("scale", 1) == 1 and beat.get("deploy", {}).get("replicas", 1) == 1
    assert not any("beat" in service["command"] or "-B" in service["command"] or "--beat" in service["command"]
                   for name, service in panel_services().items() if name != "beat")


def test_the_web_healthcheck_does_not_wait_on_beat_or_the_broker():
    assert healthcheck_argv(services()["web"]) == ["python", "manage.py", "healthcheck", "--role", "web"]
    assert set(health.LIVE_CHECKS) == {"database", "cache"}


def test_worker_and_beat_check_their_own_process():
    assert healthcheck_argv(services()["worker"])[-2:] == ["--role", "worker"]
    assert healthcheck_argv(services()["beat"])[-2:] == ["--role", "beat"]


def test_the_databases_own_tools_check_db_and_redis():
    assert healthcheck_argv(services()["db"])[0] == "pg_isready"
    assert healthcheck_argv(services()["redis"])[:2] == ["redis-cli", "ping"]


def test_the_panel_reads_env_and_runs_in_production_mode_against_postgres_and_redis():
    for name, service in panel_services().items():
        env = service["environment"]
        assert service["env_file"] == ".env", name
        assert env["DEBUG"] == "0"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["DATABASE_URL"].startswith("postgres://panel:${POSTGRES_PASSWORD:?")
        assert env["DATABASE_URL"].endswith("@db:5432/panel?connect_timeout=5")
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["CACHE_URL"].startswith("redis://redis:6379/1")


def test_only_the_web_is_published_and_only_on_the_loopback_by_default():
    published = {name: service["ports"] for name, service in services().items() if "ports" in service}
    assert published == {"web": ["${WEB_BIND:-127.0.0.1:8000}:8000"]}


def test_the_database_and_redis_are_not_handed_the_panels_secrets():
    for name in ("db", "redis"):
        assert "env_file" not in services()[name]
    assert set(services()["db"]["environment"]) == {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def test_every_panel_service_uses_the_image():
    assert all(service["image"] == IMAGE for service in panel_services().values())
