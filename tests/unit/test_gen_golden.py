"""Golden files pin every generator's output byte for byte, and that output is lint-clean.

Update the golden files after an intended change with
``WHIMBREL_UPDATE_GOLDEN=1 pytest tests/unit/test_gen_golden.py`` and review the diff.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from golden.cases import DOMAINS, GOLDEN, OUTBOX_CASES, TEMPLATE_NAMES, VERSION, golden
from whimbrel.generators import Outbox, load_domain, render_domain, render_migration, render_outbox

ROOT = Path(__file__).resolve().parents[2]


def _rendered() -> dict[str, str]:
    """Every golden case: relative golden path -> freshly rendered source."""
    out = {f"templates/{t}.py": render_migration(n, t) for t, n in TEMPLATE_NAMES.items()}
    out |= {f"outbox/{c}.py": render_outbox(Outbox(**o)) for c, o in OUTBOX_CASES.items()}
    for name in DOMAINS:
        _, source = render_domain(load_domain(GOLDEN / "domain" / f"{name}.toml"), VERSION)
        out[f"domain/{name}.py"] = source
    return out


@pytest.mark.parametrize("relative", sorted(_rendered()))
def test_output_matches_golden_file(relative: str) -> None:
    source = _rendered()[relative]
    assert source == golden(relative, source)


def test_domain_path_is_pinned_by_the_version() -> None:
    path, _ = render_domain(load_domain(GOLDEN / "domain" / "library.toml"), VERSION)
    assert path == Path("migrations") / f"{VERSION}_create_library_tables.py"


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every rendered file in a folder outside the project (so no project config applies)."""
    folder = tmp_path_factory.mktemp("generated")
    for relative, source in _rendered().items():
        (folder / relative.replace("/", "__")).write_text(source, encoding="utf-8")
    return folder


def test_generated_files_pass_ruff_format_at_default_and_project_line_length(
    generated: Path,
) -> None:
    for extra in ([], ["--line-length", "100"]):
        done = _ruff("format", "--isolated", "--check", *extra, str(generated))
        assert done.returncode == 0, done.stdout + done.stderr


def test_generated_files_pass_ruff_check(generated: Path) -> None:
    # The project's rule set, at ruff's default line length. Only the blank template
    # uses `import *` (as the DSL docs do); every other file imports names explicitly.
    rules = ["--isolated", "--select", "E,F,W,I,B,UP"]
    blank = str(generated / "templates__blank.py")
    done = _ruff("check", *rules, "--exclude", blank, str(generated))
    assert done.returncode == 0, done.stdout + done.stderr
    done = _ruff("check", *rules, "--ignore", "F403", blank)
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_files_pass_the_projects_own_ruff_config(generated: Path) -> None:
    done = _ruff("check", "--config", str(ROOT / "pyproject.toml"), str(generated))
    assert done.returncode == 0, done.stdout + done.stderr
