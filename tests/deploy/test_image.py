"""Every command the stack runs exists in the image: its program (python, or a console script of a pinned
runtime dependency), its `manage.py` command, and every file it names, sent to the build by .dockerignore.
The Dockerfile builds from python:3.11-slim-bookworm, runs as a user other than root, collects static files
at build and has a healthcheck; and the settings load the way the build and the containers start them."""

import importlib.metadata
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

from .stack import (
    ROOT,
    WORKDIR,
    dockerfile,
    dockerignored,
    env_example,
    image_commands,
    interpolate,
    panel_services,
    requirement_name,
    runtime_requirements,
)

COMMANDS = image_commands()


def _console_scripts() -> dict[str, str]:
    """Console script name -> the distribution that installs it."""
    scripts = {}
    for dist in importlib.metadata.distributions():
        for entry in dist.entry_points:
            if entry.group == "console_scripts":
                scripts[entry.name] = dist.metadata["Name"].lower().replace("_", "-")
    return scripts


def _sent(path: str) -> bool:
    """The file is in the repository and .dockerignore sends it to the build."""
    return (ROOT / path).exists() and not dockerignored(path)


def test_the_commands_are_the_ones_the_stack_needs():
    assert {"migrate.command", "web.command", "worker.command", "beat.command", "web.healthcheck",
            "worker.healthcheck", "beat.healthcheck", "Dockerfile CMD", "Dockerfile HEALTHCHECK"} <= COMMANDS.keys()


@pytest.mark.parametrize("where", sorted(COMMANDS))
def test_every_program_is_in_the_image(where):
    program = COMMANDS[where][0]
    if program == "python":  # the base image's /usr/local/bin/python
        return
    runtime = {requirement_name(r) for r in runtime_requirements()}
    provider = _console_scripts().get(program)
    assert provider in runtime, f"{where}: {program} is not a console script of a runtime dependency"
    assert (Path(sys.prefix) / "bin" / program).exists()


@pytest.mark.parametrize("where", sorted(w for w, argv in COMMANDS.items() if argv[:2] == ["python", "manage.py"]))
def test_every_manage_py_command_is_a_real_command(where):
    argv = COMMANDS[where]
    assert _sent("manage.py")
    assert argv[2] in get_commands(), f"{where}: no manage.py command {argv[2]!r}"


def test_the_healthcheck_command_takes_the_roles_the_stack_gives_it():
    from panel.management.commands.healthcheck import Command

    parser = Command().create_parser("manage.py", "healthcheck")
    for argv in COMMANDS.values():
        if argv[2:3] == ["healthcheck"]:
            parser.parse_args(argv[3:])  # exits on an unknown role or option


def test_gunicorn_loads_the_wsgi_app_with_the_config_file_in_the_image():
    for where, argv in COMMANDS.items():
        if argv[0] != "gunicorn":
            continue
        module, _, attribute = argv[1].partition(":")
        assert _sent(module.replace(".", "/") + ".py"), where
        assert attribute == "application"
        config = argv[argv.index("-c") + 1]
        assert _sent(config), f"{where}: {config} is not sent to the build"


def test_celery_finds_the_panels_app():
    from panel.celery import app

    for where, argv in COMMANDS.items():
        if argv[0] == "celery":
            assert argv[1:3] == ["-A", "panel"], where
            assert _sent("panel/celery.py") and app.main == "panel"


def test_beats_schedule_file_is_in_a_folder_the_panel_user_owns():
    schedule = next(a for a in panel_services()["beat"]["command"] if a.startswith("--schedule="))
    assert Path(schedule.split("=", 1)[1]).parent == Path(WORKDIR) / "var"
    assert any(i == "RUN" and "chown -R panel:panel var" in a for i, a in dockerfile())


def test_dockerignore_keeps_secrets_and_local_state_out_and_the_code_in():
    for kept_out in (".env", ".env.production", ".venv/bin/python", "var/panel.sqlite3", ".git/config",
                     "panel/__pycache__/settings.cpython-311.pyc", "staticfiles/x.css"):
        assert dockerignored(kept_out), kept_out
    for needed in ("manage.py", "pyproject.toml", "README.md", "panel/settings.py", "panel/gunicorn.conf.py",
                   "templates/base.html", "static", "accounts/models.py"):
        assert _sent(needed), needed


def test_every_copy_source_is_sent_to_the_build():
    for instruction, argument in dockerfile():
        if instruction == "COPY":
            *sources, _destination = argument.split()
            for source in sources:
                assert source == "." or _sent(source), source


def test_the_image_is_python_311_slim_bookworm_and_runs_as_a_user():
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim-bookworm")
    users = [argument for instruction, argument in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("WORKDIR", WORKDIR) in instructions
    last_user = max(i for i, (instruction, _) in enumerate(instructions) if instruction == "USER")
    last_cmd = max(i for i, (instruction, _) in enumerate(instructions) if instruction == "CMD")
    assert last_user < last_cmd


def test_the_image_installs_the_pinned_runtime_dependencies_and_collects_static_at_build():
    runs = [argument for instruction, argument in dockerfile() if instruction == "RUN"]
    assert any(re.search(r"\bpip install \.(\s|$|&)", run) for run in runs)
    assert not any("[dev]" in run for run in runs)
    unpinned = [r for r in runtime_requirements() if not re.search(r"==\d", r)]
    assert not unpinned, unpinned
    assert any("manage.py collectstatic --noinput" in run for run in runs)
    healthcheck = next(argument for instruction, argument in dockerfile() if instruction == "HEALTHCHECK")
    assert "--interval=" in healthcheck and "--timeout=" in healthcheck


def _run(argv, env):
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(argv, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_the_settings_load_with_the_builds_collectstatic_environment():
    """The Dockerfile's collectstatic runs with DEBUG off and only what its RUN line gives it."""
    run = next(argument for instruction, argument in dockerfile()
               if instruction == "RUN" and "collectstatic" in argument)
    command = run[run.index("DEBUG="):]
    env = dict(re.findall(r"(\w+)=(\S+)", command.split("python", 1)[0]))
    assert env["DEBUG"] == "0"
    result = _run([sys.executable, "manage.py", "collectstatic", "--noinput", "--dry-run"], env)
    assert result.returncode == 0, result.stderr[-2000:]


def _container_environment() -> dict[str, str]:
    """What a web container is started with: .env.example's lines filled in as an operator would, then the
    compose file's environment over them (interpolated from the same .env)."""
    dotenv = {entry["name"]: entry["value"] for entry in env_example() if not entry["commented"]}
    dotenv.update(SECRET_KEY=secrets.token_urlsafe(50), POSTGRES_PASSWORD="a1b2c3d4e5",
                  EMAIL_URL="smtp+tls://panel:mail-pass@smtp.example.com:587")
    environment = {name: interpolate(str(value), dotenv)
                   for name, value in panel_services()["web"]["environment"].items()}
    return {**dotenv, **environment}


# HSTS for every subdomain and the browsers' preload list are the operator's to choose (.env.example): both
# are hard to undo, so they stay off by default and Django's reminders of them are expected.
OPERATORS_CHOICE = {"security.W005", "security.W021"}


def test_the_containers_settings_pass_djangos_deployment_checks():
    result = _run([sys.executable, "manage.py", "check", "--deploy"], _container_environment())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", output)) <= OPERATORS_CHOICE, output[-3000:]


def test_the_compose_file_refuses_to_start_without_the_secrets():
    environment = panel_services()["web"]["environment"]
    with pytest.raises(ValueError, match="SECRET_KEY"):
        interpolate(environment["SECRET_KEY"], {"SECRET_KEY": ""})
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        interpolate(environment["DATABASE_URL"], {})


def test_every_manage_py_command_the_readme_names_is_a_real_command():
    named = set(re.findall(r"manage\.py (\w+)", (ROOT / "README.md").read_text()))
    assert {"createsuperuser", "check_ledger", "healthcheck"} <= named
    assert not sorted(named - set(get_commands()))


def test_the_readme_says_plainly_that_the_stack_has_not_been_run():
    readme = (ROOT / "README.md").read_text()
    assert "## Deploying" in readme
    assert ("No Docker engine was available where this was written: the compose file is checked against its "
            "schema and\nits commands against the image's contents by tests/deploy, but it has not been run.") in readme
