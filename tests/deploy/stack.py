"""Reading the stack's files as Docker and compose would, for the checks in this folder (no Docker here)."""

import ast
import json
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
IMAGE = "smm-panel:latest"
WORKDIR = "/app"


@cache
def compose() -> dict:
    """docker-compose.yml with its anchors and merge keys resolved (as compose resolves them)."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_schema() -> dict:
    """The Compose Specification's JSON schema (compose-spec.json beside this file; where it comes from: test_compose)."""
    return json.loads((HERE / "compose-spec.json").read_text())


def services() -> dict:
    return compose()["services"]


def panel_services() -> dict:
    """The services that run the panel's own image."""
    return {name: service for name, service in services().items() if service.get("image") == IMAGE}


# --- ${VAR} interpolation ------------------------------------------------------------------------------------

VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def compose_variables() -> set[str]:
    """Every ${NAME} the compose file interpolates."""
    return {match["name"] for match in VARIABLE.finditer((ROOT / "docker-compose.yml").read_text())}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error} and ${NAME:+alternative}."""
    def replace(match):
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        value = env.get(name)
        empty = value is None or (value == "" and op and op.startswith(":"))
        if op in ("-", ":-"):
            return arg if empty else value
        if op in ("?", ":?"):
            if empty:
                raise ValueError(f"{name}: {arg}")
            return value
        if op in ("+", ":+"):
            return "" if empty else arg
        return value or ""

    return VARIABLE.sub(replace, text)


# --- Commands ------------------------------------------------------------------------------------------------

def healthcheck_argv(service: dict) -> list[str] | None:
    test = (service.get("healthcheck") or {}).get("test")
    if not test:
        return None
    if isinstance(test, str):
        return shlex.split(test)
    kind, *rest = test
    return shlex.split(rest[0]) if kind == "CMD-SHELL" else rest if kind == "CMD" else None


def image_commands() -> dict[str, list[str]]:
    """Every command the panel's image is asked to run, by where it is named."""
    commands = {}
    for name, service in panel_services().items():
        commands[f"{name}.command"] = service["command"]
        if argv := healthcheck_argv(service):
            commands[f"{name}.healthcheck"] = argv
    for instruction, argument in dockerfile():
        if instruction in ("CMD", "HEALTHCHECK"):
            exec_form = argument[argument.index("["):] if instruction == "HEALTHCHECK" else argument
            commands[f"Dockerfile {instruction}"] = json.loads(exec_form)
    return commands


# --- Dockerfile ----------------------------------------------------------------------------------------------

@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, argument = line.partition(" ")
            instructions.append((instruction.upper(), " ".join(argument.split())))
    return instructions


# --- .dockerignore -------------------------------------------------------------------------------------------

def _ignore_patterns() -> list[tuple[bool, re.Pattern]]:
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        patterns.append((negated, re.compile(regex + r"\Z")))
    return patterns


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the build context) out of the image: as Docker, a
    matching directory takes its contents with it, and the last matching line wins."""
    parts = Path(path).parts
    excluded = False
    for negated, regex in _ignore_patterns():
        if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


# --- pyproject -----------------------------------------------------------------------------------------------

def runtime_requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def requirement_name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


# --- Settings and .env.example -------------------------------------------------------------------------------

def settings_env_reads() -> dict[str, object]:
    """Each name panel/settings.py reads with env(...), env.<type>(...), with its default when a constant."""
    tree = ast.parse((ROOT / "panel" / "settings.py").read_text())
    names = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        if not (isinstance(func, ast.Name) and func.id == "env" and node.args):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            constant = default.value if isinstance(default, ast.Constant) else NotImplemented
            names.setdefault(first.value, constant)
    return names


def other_env_reads() -> set[str]:
    """Names read straight from os.environ by the code the image runs (gunicorn's config)."""
    text = (ROOT / "panel" / "gunicorn.conf.py").read_text()
    return set(re.findall(r"os\.environ\.get\(\s*\"([A-Z0-9_]+)\"", text))


ENV_LINE = re.compile(r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def env_example() -> list[dict]:
    """The .env.example's settings in order: name, value, commented (keeps its default), and the description
    comment above it in its paragraph (None when there is none)."""
    entries, description = [], None
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.rstrip()
        if not line:
            description = None
            continue
        if match := ENV_LINE.match(line):
            entries.append({"name": match["name"], "value": match["value"], "commented": bool(match["commented"]),
                            "description": description})
        elif line.startswith("#") and not line.startswith("# ===="):
            description = line.lstrip("# ").strip()
    return entries
