"""Configuration: pyproject.toml < whimbrel.toml < environment < overrides, validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from whimbrel.config import Config, load_config
from whimbrel.errors import ConfigError, UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, env: dict[str, str] | None = None, **kwargs: Any) -> Config:
    """load_config isolated from the real environment and working directory."""
    return load_config(cwd=tmp_path, env=env or {}, **kwargs)


# --- defaults and precedence ---------------------------------------------------------------


def test_nothing_configured_uses_sqlite_beside_the_working_directory(tmp_path: Path) -> None:
    config = load(tmp_path)
    root = tmp_path.resolve()
    assert config.root == root
    assert config.database_url == f"sqlite:///{root}/whimbrel.db"
    assert config.database_from == "default"
    assert config.migrations_path == root / "migrations"
    assert config.tenant_migrations_path == root / "tenant_migrations"
    assert config.files == ()
    assert (config.migration_source, config.migration_lock, config.strict_version_order) == (
        "schema_migrations",
        True,
        False,
    )


def test_pyproject_tool_whimbrel_is_read(tmp_path: Path) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "app"\n\n[tool.whimbrel]\n'
        'database_url = "postgresql://localhost/app"\nmigration_source = "versions"\n',
    )
    config = load(tmp_path)
    assert config.database_url == "postgresql://localhost/app"
    assert config.database_from == str(pyproject.resolve())
    assert config.migration_source == "versions"
    assert config.files == (pyproject.resolve(),)


def test_pyproject_without_a_whimbrel_table_is_ignored(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "app"\n')
    config = load(tmp_path)
    assert config.files == ()
    assert config.database_from == "default"


def test_later_sources_win_key_by_key(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        "[tool.whimbrel]\n"
        'database_url = "sqlite:///from-pyproject.db"\n'
        'migration_source = "from_pyproject"\n'
        'lock_timeout = "1s"\n'
        'statement_timeout = "1s"\n'
        "strict_version_order = true\n",
    )
    write(
        tmp_path / "whimbrel.toml",
        'database_url = "sqlite:///from-whimbrel-toml.db"\n'
        'migration_source = "from_whimbrel_toml"\n'
        'lock_timeout = "2s"\n',
    )
    env = {"DATABASE_URL": "sqlite:///from-env.db", "WHIMBREL_MIGRATION_SOURCE": "from_env"}
    config = load(tmp_path, env, overrides={"database_url": "sqlite:///from-override.db"})

    assert config.database_url == "sqlite:///from-override.db"  # overrides > env
    assert config.database_from == "command line"
    assert config.migration_source == "from_env"  # env > whimbrel.toml
    assert config.lock_timeout == "2s"  # whimbrel.toml > pyproject
    assert config.statement_timeout == "1s"  # only in pyproject
    assert config.strict_version_order is True


def test_none_overrides_do_not_erase_configured_values(tmp_path: Path) -> None:
    write(tmp_path / "whimbrel.toml", 'database_url = "sqlite:///app.db"\n')
    config = load(tmp_path, overrides={"database_url": None})
    assert config.database_url == f"sqlite:///{tmp_path.resolve()}/app.db"


def test_a_relative_sqlite_path_in_a_config_file_is_beside_that_file(tmp_path: Path) -> None:
    project = tmp_path / "app"
    write(project / "whimbrel.toml", 'database_url = "sqlite:///data/app.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = load_config(project / "whimbrel.toml", cwd=elsewhere, env={})
    assert config.database_url == f"sqlite:///{project.resolve()}/data/app.db"


def test_a_relative_sqlite_path_from_the_command_line_stays_relative(tmp_path: Path) -> None:
    write(tmp_path / "whimbrel.toml", "")
    config = load(tmp_path, overrides={"database_url": "sqlite:///x.db"})
    assert config.database_url == "sqlite:///x.db"


# --- environment --------------------------------------------------------------------------


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    config = load(tmp_path, {"DATABASE_URL": "postgresql://db/app"})
    assert (config.database_url, config.database_from) == ("postgresql://db/app", "environment")


def test_whimbrel_database_url_beats_database_url(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://db/shared",
        "WHIMBREL_DATABASE_URL": "postgresql://db/mine",
    }
    assert load(tmp_path, env).database_url == "postgresql://db/mine"


def test_empty_environment_values_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / "whimbrel.toml", 'database_url = "sqlite:///app.db"\n')
    config = load(tmp_path, {"DATABASE_URL": "", "WHIMBREL_MIGRATION_LOCK": ""})
    assert config.database_url == f"sqlite:///{tmp_path.resolve()}/app.db"
    assert config.migration_lock is True


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), ("1", True), ("YES", True), ("on", True)]
    + [("false", False), ("0", False), ("No", False), ("off", False)],
)
def test_boolean_environment_values(tmp_path: Path, raw: str, value: bool) -> None:
    config = load(tmp_path, {"WHIMBREL_MIGRATION_LOCK": raw, "WHIMBREL_STRICT_VERSION_ORDER": raw})
    assert (config.migration_lock, config.strict_version_order) == (value, value)


ENV_VALUES: list[tuple[str, str, str, Any]] = [
    (
        "WHIMBREL_PREFIXES",
        "tenant_a, tenant_b,,tenant_c ",
        "prefixes",
        ("tenant_a", "tenant_b", "tenant_c"),
    ),
    (
        "WHIMBREL_MIGRATION_PRIMARY_KEY",
        '{name = "uuid", type = "binary_id"}',
        "migration_primary_key",
        {"name": "uuid", "type": "binary_id"},
    ),
    (
        "WHIMBREL_MIGRATION_TIMESTAMPS",
        '{type = "utc_datetime"}',
        "migration_timestamps",
        {"type": "utc_datetime"},
    ),
    ("WHIMBREL_MIGRATION_LOCK_WAIT", "2.5", "migration_lock_wait", 2.5),
    ("WHIMBREL_MIGRATION_LOCK_WAIT", "10", "migration_lock_wait", 10.0),
    ("WHIMBREL_LOCK_TIMEOUT", "5s", "lock_timeout", "5s"),
    ("WHIMBREL_STATEMENT_TIMEOUT", "60000", "statement_timeout", "60000"),
    (
        "WHIMBREL_PREFIXES_QUERY",
        "SELECT name FROM tenants",
        "prefixes_query",
        "SELECT name FROM tenants",
    ),
    ("WHIMBREL_MIGRATION_SOURCE", "versions", "migration_source", "versions"),
    ("WHIMBREL_JOBS", "8", "jobs", 8),
    ("WHIMBREL_LOCK_TIMEOUT_RETRIES", "3", "lock_timeout_retries", 3),
]


@pytest.mark.parametrize(("variable", "raw", "key", "value"), ENV_VALUES)
def test_environment_values_are_parsed_by_key_type(
    tmp_path: Path, variable: str, raw: str, key: str, value: Any
) -> None:
    assert getattr(load(tmp_path, {variable: raw}), key) == value


ENV_ERRORS: list[tuple[str, str, list[str]]] = [
    (
        "WHIMBREL_MIGRATION_LOCK",
        "maybe",
        ["WHIMBREL_MIGRATION_LOCK='maybe' is not a boolean", "use true or false"],
    ),
    (
        "WHIMBREL_MIGRATION_PRIMARY_KEY",
        "uuid",
        ["WHIMBREL_MIGRATION_PRIMARY_KEY must be a TOML inline table", "e.g."],
    ),
    ("WHIMBREL_MIGRATION_PRIMARY_KEY", '"uuid"', ["must be a TOML inline table"]),
    (
        "WHIMBREL_MIGRATION_LOCK_WAIT",
        "soon",
        ["WHIMBREL_MIGRATION_LOCK_WAIT='soon' is not a number of seconds"],
    ),
    ("WHIMBREL_JOBS", "many", ["WHIMBREL_JOBS='many' is not a whole number"]),
    ("WHIMBREL_JOBS", "0", ["jobs = 0", "1 or more"]),
]


@pytest.mark.parametrize(("variable", "raw", "message_parts"), ENV_ERRORS)
def test_bad_environment_values_are_refused(
    tmp_path: Path, variable: str, raw: str, message_parts: list[str]
) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, {variable: raw})
    for part in message_parts:
        assert part in str(err.value)


# --- validation ---------------------------------------------------------------------------


def test_unknown_key_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    config_file = write(tmp_path / "whimbrel.toml", 'migrations_pth = "db/migrations"\n')
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    message = str(err.value)
    assert str(config_file.resolve()) in message
    assert "unknown setting 'migrations_pth'" in message
    assert "did you mean 'migrations_path'?" in message
    assert "settings are: database_url" in message


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: unknown setting 'databse_url'"):
        load(tmp_path, overrides={"databse_url": "sqlite:///x.db"})


WRONG_TYPES: list[tuple[str, str]] = [
    ('migration_lock = "yes"', "migration_lock = 'yes': use true (the session lock)"),
    ("strict_version_order = 1", "setting 'strict_version_order' must be a bool, got 1"),
    ('prefixes = "tenant_a"', "setting 'prefixes' must be a list, got 'tenant_a'"),
    ("database_url = 5", "setting 'database_url' must be a str, got 5"),
    ("lock_timeout = true", "setting 'lock_timeout' must be a str or int, got True"),
    ("migration_lock_wait = false", "setting 'migration_lock_wait' must be a int or float"),
    ('migration_primary_key = "uuid"', "setting 'migration_primary_key' must be a dict"),
    ('prefixes = ["tenant_a", 2]', "prefixes must be a list of schema names"),
    ('prefixes = [""]', "prefixes must be a list of schema names"),
]
WRONG_VALUES: list[tuple[str, str]] = [
    # Checked on load for every database, not by PostgreSQL at connect time (exit 1).
    ('lock_timeout = "soon"', "lock_timeout = 'soon' is not a duration"),
    ('statement_timeout = "5 sec"', "statement_timeout = '5 sec' is not a duration"),
    ("migration_lock_wait = -1", "migration_lock_wait = -1 is negative"),
    ('migration_source = ""', "migration_source is empty"),
    ("jobs = 0", "jobs = 0: give how many tenant prefixes to migrate at once, 1 or more"),
    ("jobs = -2", "jobs = -2"),
    ("jobs = true", "setting 'jobs' must be a int, got True"),
    # The DSL defaults: a typo was a TypeError, ignored, or blamed on a migration file.
    (
        'migration_primary_key = {name = "id", tpye = "binary_id"}',
        "migration_primary_key has an unknown key 'tpye' (did you mean 'type'?)",
    ),
    (
        'migration_foreign_key = {tpye = "binary_id"}',
        "migration_foreign_key has an unknown key 'tpye' (did you mean 'type'?)",
    ),
    (
        'migration_timestamps = {typ = "utc_datetime"}',
        "migration_timestamps has an unknown key 'typ' (did you mean 'type'?)",
    ),
]


@pytest.mark.parametrize(("toml", "message"), WRONG_TYPES + WRONG_VALUES)
def test_wrong_type_or_value_is_refused(tmp_path: Path, toml: str, message: str) -> None:
    config_file = write(tmp_path / "whimbrel.toml", toml + "\n")
    with pytest.raises(ConfigError) as err:
        load(tmp_path)
    assert message in str(err.value)
    assert str(config_file.resolve()) in str(err.value)


def test_valid_durations_and_dsl_defaults_load(tmp_path: Path) -> None:
    write(
        tmp_path / "whimbrel.toml",
        'lock_timeout = "1.5 s"\nstatement_timeout = 5000\nmigration_lock_wait = 0\n'
        'migration_primary_key = {name = "uuid", type = "binary_id", null = false}\n',
    )
    config = load(tmp_path)
    assert (config.lock_timeout, config.statement_timeout) == ("1.5 s", "5000")
    assert config.migration_primary_key["name"] == "uuid"


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    config_file = write(tmp_path / "whimbrel.toml", "database_url = \n")
    with pytest.raises(ConfigError, match="invalid TOML") as err:
        load(tmp_path)
    assert str(config_file.resolve()) in str(err.value)


def test_config_errors_are_usage_errors() -> None:
    # The CLI maps UsageError to exit code 2.
    assert issubclass(ConfigError, UsageError)
    assert ConfigError.exit_code == 2


# --- paths --------------------------------------------------------------------------------


def test_explicit_config_file_sets_the_root(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "deploy" / "whimbrel.toml", 'migrations_path = "db/migrations"\n'
    )
    write(tmp_path / "whimbrel.toml", 'migration_source = "ignored_when_config_is_given"\n')

    config = load(tmp_path, config_path="deploy/whimbrel.toml")

    root = (tmp_path / "deploy").resolve()
    assert config.root == root
    assert config.files == (config_file.resolve(),)
    assert config.database_url == f"sqlite:///{root}/whimbrel.db"  # beside the config file
    assert config.migrations_path == root / "db" / "migrations"
    assert config.tenant_migrations_path == root / "tenant_migrations"
    assert config.migration_source == "schema_migrations"


def test_explicit_pyproject_reads_its_tool_table(tmp_path: Path) -> None:
    write(
        tmp_path / "svc" / "pyproject.toml", '[tool.whimbrel]\nmigration_source = "svc_versions"\n'
    )
    assert load(tmp_path, config_path="svc/pyproject.toml").migration_source == "svc_versions"


def test_paths_are_resolved_relative_to_the_config_root(tmp_path: Path) -> None:
    elsewhere = (tmp_path / "shared" / "tenant").resolve()
    write(
        tmp_path / "whimbrel.toml",
        f'migrations_path = "../app/migrations"\ntenant_migrations_path = "{elsewhere}"\n',
    )
    config = load(tmp_path)
    assert config.migrations_path == (tmp_path.parent / "app" / "migrations").resolve()
    assert config.tenant_migrations_path == elsewhere


def test_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, config_path="nope/whimbrel.toml")
    assert str((tmp_path / "nope" / "whimbrel.toml").resolve()) in str(err.value)
    assert "does not exist: check --config" in str(err.value)


def test_other_settings_are_carried_through(tmp_path: Path) -> None:
    write(
        tmp_path / "whimbrel.toml",
        'prefixes = ["tenant_a", "tenant_b"]\n'
        'prefixes_query = "SELECT 1"\n'
        "migration_lock = false\n"
        "migration_lock_wait = 3\n"
        "lock_timeout = 5000\n"
        'migration_primary_key = {name = "uuid", type = "binary_id"}\n'
        'migration_foreign_key = {column = "uuid"}\n'
        'migration_timestamps = {type = "utc_datetime"}\n',
    )
    config = load(tmp_path)
    assert config.prefixes == ("tenant_a", "tenant_b")
    assert config.prefixes_query == "SELECT 1"
    assert config.migration_lock is False
    assert config.migration_lock_wait == 3.0
    assert config.lock_timeout == "5000"  # integers are milliseconds, as PostgreSQL reads them
    assert config.migration_primary_key == {"name": "uuid", "type": "binary_id"}
    assert config.migration_foreign_key == {"column": "uuid"}
    assert config.migration_timestamps == {"type": "utc_datetime"}


# --- lookup from a sub-folder, as git looks for .git -----------------------------------------


def test_config_in_a_parent_folder_is_used_from_a_sub_folder(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "whimbrel.toml",
        'database_url = "postgresql://db/app"\nmigrations_path = "db/migrations"\n',
    )
    sub = tmp_path / "app" / "sub"
    sub.mkdir(parents=True)
    config = load(sub)
    assert config.database_url == "postgresql://db/app"
    assert config.files == (config_file.resolve(),)
    assert config.root == tmp_path.resolve()  # paths stay relative to the file, not the cwd
    assert config.migrations_path == tmp_path.resolve() / "db" / "migrations"


def test_the_nearest_config_wins_and_a_plain_pyproject_does_not_stop_the_search(
    tmp_path: Path,
) -> None:
    write(tmp_path / "whimbrel.toml", 'database_url = "postgresql://db/outer"\n')
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n')  # no [tool.whimbrel]
    assert load(tmp_path / "app").database_url == "postgresql://db/outer"
    inner = write(tmp_path / "app" / "pyproject.toml", "[tool.whimbrel]\n")
    config = load(tmp_path / "app")
    assert config.files == (inner.resolve(),)  # an empty [tool.whimbrel] marks the root
    assert config.database_url == f"sqlite:///{(tmp_path / 'app').resolve()}/whimbrel.db"


def test_connect_timeout_is_seconds_from_file_or_environment(tmp_path: Path) -> None:
    assert load_config(cwd=tmp_path, env={}).connect_timeout == 10.0
    (tmp_path / "whimbrel.toml").write_text("connect_timeout = 3\n")
    assert load_config(cwd=tmp_path, env={}).connect_timeout == 3.0
    env = {"WHIMBREL_CONNECT_TIMEOUT": "2.5"}
    assert load_config(cwd=tmp_path, env=env).connect_timeout == 2.5


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_connect_timeout_that_is_not_positive_is_refused(tmp_path: Path, value: str) -> None:
    (tmp_path / "whimbrel.toml").write_text(f"connect_timeout = {value}\n")
    with pytest.raises(ConfigError, match="connect_timeout .* is not positive"):
        load_config(cwd=tmp_path, env={})
