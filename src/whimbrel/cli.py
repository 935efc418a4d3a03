"""The ``whimbrel`` command: a thin layer over ``whimbrel.Migrator``.

Each command is one call into the Python API. Errors are mapped to exit
codes in ``main()`` only: 0 success, 1 a migration failed or migrations are
not up, 2 bad usage or configuration. Heavy modules are imported inside the
commands so ``whimbrel --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

    from whimbrel.generators.templating import Generated
    from whimbrel.migrator.core import Migrator

log = logging.getLogger("whimbrel")


class _Handler(logging.Handler):
    """Plain messages on stderr; warnings marked so they stand out."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        click.echo(prefix + record.getMessage(), err=True)


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--config`` and ``--database-url`` on every command (and on the group)."""
    fn = click.option("--database-url", help="Database URL; overrides the configuration.")(fn)
    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), help="Config file."
    )(fn)


def _settings(
    ctx: click.Context, config_path: str | None, database_url: str | None
) -> dict[str, Any]:
    parent = ctx.find_root().params
    return {
        "config_path": config_path or parent.get("config_path"),
        "database_url": database_url or parent.get("database_url"),
    }


def _migrator(
    ctx: click.Context, config_path: str | None, database_url: str | None, quiet: bool = False
) -> Migrator:
    from whimbrel.migrator.core import Migrator
    from whimbrel.url import mask

    s = _settings(ctx, config_path, database_url)
    migrator = Migrator.from_config(s["config_path"], database_url=s["database_url"])
    ctx.call_on_close(migrator.close)
    source = migrator.config.database_from
    if not quiet:
        log.info("using %s (%s)", mask(migrator.config.database_url), source)
    return migrator


def _strategy(
    all_: bool, step: int | None, to: int | None, to_exclusive: int | None
) -> dict[str, Any]:
    """The strategy options given; the library refuses more than one (exit 2)."""
    options = {"all": all_ or None, "step": step, "to": to, "to_exclusive": to_exclusive}
    return {k: v for k, v in options.items() if v is not None}


def _strategy_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--all", "all_", is_flag=True, help="Every migration."),
            click.option("--step", "-n", type=click.IntRange(min=1), help="This many migrations."),
            click.option("--to", type=int, help="Up to and including this version."),
            click.option("--to-exclusive", type=int, help="Up to, excluding, this version."),
            click.option("--prefix", help="Only this tenant schema."),
            click.option("--dry-run", is_flag=True, help="Print the SQL instead of running it."),
            click.option("--log-sql", is_flag=True, help="Log each statement as it runs."),
        ]
    ):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@_common
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors and results.")
@click.version_option(package_name="whimbrel")
def cli(config_path: str | None, database_url: str | None, debug: bool, quiet: bool) -> None:
    """Ecto-style schema migrations for PostgreSQL, SQLite and MySQL/MariaDB."""
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    if not any(isinstance(h, _Handler) for h in log.handlers):
        log.addHandler(_Handler())
    log.propagate = False


def _run(ctx: click.Context, direction: str, opts: dict[str, Any]) -> None:
    migrator = _migrator(ctx, opts.pop("config_path"), opts.pop("database_url"))
    strategy = _strategy(
        opts.pop("all_"), opts.pop("step"), opts.pop("to"), opts.pop("to_exclusive")
    )
    if direction == "down" and not strategy:
        strategy = {"step": 1}
    if not opts.get("dry_run"):
        from whimbrel.progress import progress_for

        migrator.progress = progress_for(sys.stderr, quiet=ctx.find_root().params["quiet"])
    prefix = opts.pop("prefix")
    if prefix is not None:
        migrator.run(direction, prefix=prefix, **strategy, **opts)  # type: ignore[arg-type]
    elif direction == "up":
        migrator.up(**strategy, **opts)
    else:
        migrator.down(**strategy, **opts)


@cli.command()
@_strategy_options
@_common
@click.pass_context
def migrate(ctx: click.Context, **opts: Any) -> None:
    """Apply pending migrations (default --all), global then tenants."""
    _run(ctx, "up", opts)


@cli.command()
@_strategy_options
@_common
@click.pass_context
def rollback(ctx: click.Context, **opts: Any) -> None:
    """Roll back applied migrations (default --step 1), tenants then global."""
    _run(ctx, "down", opts)


@cli.command()
@click.option("--prefix", help="Only this tenant schema.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_common
@click.pass_context
def status(
    ctx: click.Context,
    prefix: str | None,
    as_json: bool,
    config_path: str | None,
    database_url: str | None,
) -> None:
    """List migrations as up or down."""
    migrator = _migrator(ctx, config_path, database_url)
    rows = migrator.status(prefix) if prefix is not None else migrator.status_all()
    if as_json:
        click.echo(json.dumps([row.__dict__ for row in rows], indent=2))
        return
    header = ("Prefix", "Status", "Migration ID", "Migration Name")
    table = [(r.prefix or "", r.status, str(r.version), r.name) for r in rows]
    show_prefix = any(r.prefix for r in rows)
    columns = [c for c in zip(header, *table, strict=False)] if table else [(h,) for h in header]
    widths = [max(len(v) for v in col) for col in columns]
    start = 0 if show_prefix else 1
    for line in [header, tuple("-" * w for w in widths), *table]:
        click.echo(
            "  ".join(
                v.ljust(w) for v, w in zip(line[start:], widths[start:], strict=True)
            ).rstrip()
        )
    if not table:
        click.echo("(no migrations)")


@cli.command("ensure-up")
@_common
@click.pass_context
def ensure_up(ctx: click.Context, config_path: str | None, database_url: str | None) -> None:
    """Exit 1 listing pending migrations; 0 when everything is applied."""
    _migrator(ctx, config_path, database_url).ensure_up()
    click.echo("Migrations up")


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@_common
@click.pass_context
def dump(
    ctx: click.Context, file: str | None, config_path: str | None, database_url: str | None
) -> None:
    """Write the schema and applied versions to FILE (default: structure.sql beside the config)."""
    from whimbrel import structure

    result = structure.dump(_migrator(ctx, config_path, database_url), file)
    click.echo(f"Wrote {result.path} ({result.versions} versions)")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_common
@click.pass_context
def load(ctx: click.Context, file: str, config_path: str | None, database_url: str | None) -> None:
    """Load a dump written by `whimbrel dump` into an empty database."""
    from whimbrel import structure

    structure.load(_migrator(ctx, config_path, database_url), file)
    click.echo(f"Loaded {file}")


@cli.group()
def gen() -> None:
    """Generate migration files (see docs/generators.md)."""


def _migrations_path(ctx: click.Context, config_path: str | None, database_url: str | None) -> Path:
    from whimbrel.config import load_config

    s = _settings(ctx, config_path, database_url)
    config = load_config(s["config_path"], overrides={"database_url": s["database_url"]})
    return config.migrations_path


def _show(result: Generated) -> None:
    """Warnings on stderr; the path (or, for a dry run, the source) then next steps on stdout."""
    for warning in result.warnings:
        log.warning("%s", warning)
    if result.status == "dry-run":
        log.info("dry run: would write %s", result.path)
        click.echo(result.source, nl=False)
        return
    if result.status in ("unchanged", "updated"):
        log.info("%s: %s", result.status, result.path)
    click.echo(str(result.path))
    for note in result.notes:
        click.echo("\n" + note)


@gen.command("migration")
@click.argument("name")
@click.option(
    "--template",
    "-t",
    default="blank",
    show_default=True,
    help="blank, create_table, alter_table, add_column, add_index, add_foreign_key, "
    "add_trigger or create_enum.",
)
@_common
@click.pass_context
def gen_migration(
    ctx: click.Context, name: str, template: str, config_path: str | None, database_url: str | None
) -> None:
    """Write a new migration NAME from a template and print its path."""
    from whimbrel.generators import generate_migration

    folder = _migrations_path(ctx, config_path, database_url)
    _show(generate_migration(folder, name, template=template))


@gen.command("outbox")
@click.option("--table", default="outbox_messages", show_default=True, help="Table name.")
@click.option("--no-index", is_flag=True, help="Leave out the pending and failed indexes.")
@click.option("--prefix", help="Schema to create the table in (it must exist).")
@_common
@click.pass_context
def gen_outbox(
    ctx: click.Context,
    table: str,
    no_index: bool,
    prefix: str | None,
    config_path: str | None,
    database_url: str | None,
) -> None:
    """Write the migration creating a transactional outbox table."""
    from whimbrel.generators import generate_outbox

    folder = _migrations_path(ctx, config_path, database_url)
    _show(generate_outbox(folder, table, indexes=not no_index, prefix=prefix))


@gen.command("domain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--timestamp", help="Pin the version (YYYYMMDDHHMMSS) for byte-stable output.")
@click.option("--dry-run", is_flag=True, help="Print the migration instead of writing it.")
@click.option("--force", is_flag=True, help="Overwrite the migration even if edited by hand.")
@_common
@click.pass_context
def gen_domain(
    ctx: click.Context,
    file: str,
    timestamp: str | None,
    dry_run: bool,
    force: bool,
    config_path: str | None,
    database_url: str | None,
) -> None:
    """Write or regenerate the migration creating a domain's tables.

    FILE is the domain's TOML file; see docs/generators.md for its format and
    for when an existing file is overwritten.
    """
    from pathlib import Path

    from whimbrel.generators import generate_domain

    folder = _migrations_path(ctx, config_path, database_url)
    _show(generate_domain(Path(file), folder, version=timestamp, dry_run=dry_run, force=force))


def main(argv: list[str] | None = None) -> None:
    """Run the command line; the one place where errors become exit codes."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="whimbrel", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the CLI's single error boundary
        from whimbrel.errors import WhimbrelError

        if debug:
            raise
        if isinstance(exc, WhimbrelError):
            click.echo(f"whimbrel: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        click.echo(
            f"whimbrel: unexpected {type(exc).__name__}: {exc}\n"
            "(run again with --debug for the traceback)",
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
