"""docs/recipes.md, run: every ``<!-- recipe: NAME -->`` block is extracted and exercised.

Python recipes run against real databases with the real frameworks (FastAPI,
Flask, Django are dev dependencies); the YAML recipes are parsed and the
whimbrel commands they hold are run in the order a deploy or CI job would.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from migration_helpers import Catalog, cli_env, write_table_migrations

from whimbrel.cli import cli
from whimbrel.errors import MigrationsNotUp

RECIPES = Path(__file__).resolve().parents[2] / "docs" / "recipes.md"


def recipe(name: str) -> str:
    text = RECIPES.read_text()
    match = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```\w+\n(.*?)```", text, re.S)
    assert match, f"docs/recipes.md has no recipe {name}"
    return match.group(1)


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Path:
    """A project of three migrations in ``tmp_path``, configured by $DATABASE_URL."""
    write_table_migrations(tmp_path, [10, 20, 30])
    monkeypatch.chdir(tmp_path)
    for key in ("WHIMBREL_DATABASE_URL", "WHIMBREL_MIGRATIONS_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    return tmp_path


def test_fastapi_lifespan(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    project(tmp_path, monkeypatch, db_url)
    (tmp_path / "fastapi_app.py").write_text(recipe("fastapi_app.py"))
    app = load_module(tmp_path / "fastapi_app.py", "fastapi_app").app

    monkeypatch.delenv("MIGRATE_ON_START", raising=False)
    with pytest.raises(MigrationsNotUp) as refused:
        with TestClient(app):
            pass
    assert refused.value.pending == ["10_create_t10", "20_create_t20", "30_create_t30"]

    monkeypatch.setenv("MIGRATE_ON_START", "1")
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
    assert Catalog(db_url).applied() == [10, 20, 30]

    monkeypatch.delenv("MIGRATE_ON_START")
    with TestClient(app) as client:  # everything applied: ensure_up passes
        assert client.get("/health").status_code == 200


def test_flask_cli_command(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, monkeypatch, pg_url)
    (tmp_path / "flask_app.py").write_text(recipe("flask_app.py"))
    app = load_module(tmp_path / "flask_app.py", "flask_app").app
    runner = app.test_cli_runner()

    pending = runner.invoke(args=["db-check"])
    assert isinstance(pending.exception, MigrationsNotUp)

    done = runner.invoke(args=["migrate", "--to", "20"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "applied 2 migration(s)"
    assert Catalog(pg_url).applied() == [10, 20]
    assert runner.invoke(args=["migrate"]).output.strip() == "applied 1 migration(s)"
    checked = runner.invoke(args=["db-check"])
    assert checked.exit_code == 0 and checked.output.strip() == "migrations up"


DJANGO_SETTINGS = """
from urllib.parse import unquote, urlsplit

_url = urlsplit({url!r})
SECRET_KEY = "recipe-test"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "reports"]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname,
        "PORT": _url.port or "",
    }}
}}
USE_TZ = True
"""

DJANGO_RUN = """
import django
from django.core.management import call_command

django.setup()
call_command("migrate", verbosity=0)
call_command("whimbrel_migrate")
call_command("whimbrel_migrate")
"""


def test_django_keeps_its_migrations_and_whimbrel_owns_a_schema(
    tmp_path: Path, pg_url: str
) -> None:
    write_table_migrations(tmp_path, [10, 20])
    (tmp_path / "whimbrel.toml").write_text('migrations_path = "migrations"\n')
    command = tmp_path / "reports" / "management" / "commands" / "whimbrel_migrate.py"
    command.parent.mkdir(parents=True)
    for package in (command.parents[2], command.parents[1], command.parent):
        (package / "__init__.py").write_text("")
    command.write_text(recipe("reports/management/commands/whimbrel_migrate.py"))
    (tmp_path / "settings.py").write_text(DJANGO_SETTINGS.format(url=pg_url))
    (tmp_path / "run.py").write_text(textwrap.dedent(DJANGO_RUN))
    env = {k: v for k, v in cli_env().items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "run.py"],
        cwd=tmp_path,
        env={**env, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "whimbrel: applied 2 migration(s) to warehouse",
        "whimbrel: applied 0 migration(s) to warehouse",
    ]
    catalog = Catalog(pg_url)
    assert {"django_migrations", "auth_user"} <= catalog.tables()
    assert "schema_migrations" not in catalog.tables()  # whimbrel stays out of public
    assert catalog.tables("warehouse") == {
        "schema_migrations",
        "schema_migrations_checksums",
        "t10",
        "t20",
    }
    assert catalog.applied("warehouse") == [10, 20]


# -- YAML recipes ------------------------------------------------------------------------


def whimbrel_invocations(document: Any) -> list[list[str]]:
    """Every ``whimbrel ...`` command line inside a parsed YAML document."""
    found: list[list[str]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "command" and isinstance(value, list):
                found += _from_command(value)
            elif key == "run" and isinstance(value, str):
                found += _from_shell(value)
            else:
                found += whimbrel_invocations(value)
    elif isinstance(document, list):
        for item in document:
            found += whimbrel_invocations(item)
    return found


def _from_command(argv: list[str]) -> list[list[str]]:
    if argv and argv[0] == "whimbrel":
        return [argv]
    if argv[:2] == ["sh", "-c"]:
        return _from_shell(argv[2])
    return []


def _from_shell(script: str) -> list[list[str]]:
    return [
        shlex.split(m.group(0))
        for m in re.finditer(r"\bwhimbrel(?:\s+(?:-[\w-]+|\"[^\"]*\"))*\s+[a-z-]+[^;\n]*", script)
    ]


def subcommand(argv: list[str]) -> str:
    return next(arg for arg in argv[1:] if not arg.startswith("-"))


@pytest.mark.parametrize("name", ["k8s.yaml", "github-actions.yml"])
def test_yaml_recipes_parse_and_name_real_commands(name: str) -> None:
    documents = list(yaml.safe_load_all(recipe(name)))
    calls = [argv for doc in documents for argv in whimbrel_invocations(doc)]
    assert calls, f"{name} runs no whimbrel command"
    known = set(cli.commands)
    unknown = [argv for argv in calls if subcommand(argv) not in known]
    assert unknown == []
    for argv in calls:
        if subcommand(argv) in known:  # options too: --help after them must parse
            done = subprocess.run(
                [sys.executable, "-m", "whimbrel", *argv[1:], "--help"],
                capture_output=True,
                text=True,
                env=cli_env(),
                check=False,
            )
            assert done.returncode == 0, (argv, done.stderr)


def test_k8s_job_then_init_container(tmp_path: Path, pg_url: str) -> None:
    """The Job's command migrates; the init container's loop then passes at once."""
    write_table_migrations(tmp_path, [10, 20])
    job, deployment = yaml.safe_load_all(recipe("k8s.yaml"))
    migrate = job["spec"]["template"]["spec"]["containers"][0]["command"]
    wait = deployment["spec"]["template"]["spec"]["initContainers"][0]["command"]
    env = {
        **cli_env(),
        "DATABASE_URL": pg_url,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }

    def run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
        )

    before = run(["whimbrel", "-q", "ensure-up"], 60)
    assert before.returncode == 1 and "20_create_t20" in before.stderr
    assert run(migrate, 120).returncode == 0
    assert run(wait, 60).returncode == 0
    assert Catalog(pg_url).applied() == [10, 20]


def test_github_actions_steps_in_order(tmp_path: Path, pg_url: str) -> None:
    """The workflow's whimbrel steps, run in order against a real scratch database."""
    write_table_migrations(tmp_path, [10, 20, 30])
    workflow = yaml.safe_load(recipe("github-actions.yml"))
    steps = workflow["jobs"]["migrations"]["steps"]
    env = {**cli_env(), "DATABASE_URL": pg_url, "PRODUCTION_SCHEMA_URL": ""}
    ran = []
    for step in steps:
        if step.get("if") == "env.PRODUCTION_SCHEMA_URL != ''":
            continue  # the secret is not set here, as on a fork
        for argv in _from_shell(step.get("run", "")):
            done = subprocess.run(
                [sys.executable, "-m", "whimbrel", *argv[1:]],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, (argv, done.stderr)
            ran.append(subcommand(argv))
    order = ["lint", "migrate", "rollback", "migrate", "ensure-up"]
    assert ran == [command for command in order if command in cli.commands]
    assert Catalog(pg_url).applied() == [10, 20, 30]
