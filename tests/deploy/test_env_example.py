""".env.example lists every setting the panel reads (panel/settings.py, gunicorn's config) and every variable
the compose file interpolates, each under a comment; what it leaves commented shows the real default, and
what it sets is safe: no secret filled in, nothing that would start the stack half-configured."""

import pytest

from .stack import compose_variables, env_example, other_env_reads, panel_services, settings_env_reads

ENTRIES = env_example()
LISTED = {entry["name"] for entry in ENTRIES}
TRUE = ("1", "true", "yes", "on")
COMPOSE_SETS = set(panel_services()["web"]["environment"])


def test_every_setting_the_panel_reads_is_listed():
    missing = sorted((set(settings_env_reads()) | other_env_reads()) - LISTED)
    assert not missing, f"add these to .env.example, each under a comment: {missing}"


def test_every_variable_the_compose_file_uses_is_listed():
    missing = sorted(compose_variables() - LISTED)
    assert not missing, f"add these to .env.example: {missing}"


def test_nothing_listed_is_unknown():
    known = set(settings_env_reads()) | other_env_reads() | compose_variables()
    assert not sorted(LISTED - known)


def test_each_setting_is_listed_once_under_a_comment():
    names = [entry["name"] for entry in ENTRIES]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    assert not [entry["name"] for entry in ENTRIES if not entry["description"]]


def test_the_secrets_are_blank_so_the_stack_refuses_to_start_until_they_are_set():
    values = {entry["name"]: entry for entry in ENTRIES}
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "EMAIL_URL"):
        assert not values[name]["commented"] and values[name]["value"] == "", name
    for entry in ENTRIES:
        secret = any(word in entry["name"] for word in ("SECRET", "PASSWORD", "TOKEN", "API_KEY"))
        if secret and "_LIMIT_" not in entry["name"]:  # PASSWORD_RESET_LIMIT_PER_HOUR is a number
            assert entry["value"] == "", entry["name"]


def test_production_mode_and_https_are_what_a_copied_file_gives():
    values = {entry["name"]: entry["value"] for entry in ENTRIES if not entry["commented"]}
    assert values["DEBUG"] == "0"
    assert values["SITE_URL"].startswith("https://")
    assert values["CSRF_TRUSTED_ORIGINS"].startswith("https://")
    assert "*" not in values["ALLOWED_HOSTS"]


def _same(value: str, default) -> bool:
    if isinstance(default, bool):
        return (value.lower() in TRUE) == default
    if isinstance(default, int | float):
        return float(value) == default
    return value == default


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["commented"]], ids=lambda e: e["name"])
def test_a_commented_setting_shows_the_real_default(entry):
    default = settings_env_reads().get(entry["name"], NotImplemented)
    if default is NotImplemented or default is None or entry["name"] in COMPOSE_SETS:
        return  # an expression (DEBUG's, HTTPS's), or a URL that shows what compose sets
    assert _same(entry["value"], default), f"{entry['name']}: .env.example says {entry['value']!r}, settings {default!r}"
