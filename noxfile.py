"""Developer and CI entry points. `nox -s tests` is what CI runs (see .ci/run).

`tests` runs once per supported Python (3.11, 3.12, 3.13) that nox finds; a
missing one is skipped locally, and `.ci/run` fails when 3.13 is missing.
Interpreters are looked up by python-discovery (nox's own lookup): `python3.X`
on PATH, and the versions pyenv has active (`PYENV_VERSION`, `.python-version`,
`pyenv global`). Nox never downloads one (this project runs offline).
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"  # the default, "auto", would fetch a missing Python from the internet

PYTHON = "3.11"
# Each supported version (the classifiers in pyproject.toml); `nox -s tests-3.13` runs one of them.
PYTHONS = ["3.11", "3.12", "3.13"]
LINT_PATHS = ["src", "tests", "scripts", "bench", "noxfile.py"]
_DOCS_ENV = {"NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor, printed on every build


def _pytest(session: nox.Session, *args: str) -> None:
    # pytest exits 5 when it collected nothing: that is a failure here, never a pass.
    session.run("python", "-m", "pytest", *args, *session.posargs)


@nox.session(python=PYTHON)
def regenerate(session: nox.Session) -> None:
    """Bundle and validate the spec; regenerate generated/seedream_client/ and src/seedream/_sync/ (from _async/)."""
    session.install("-e", ".[regen]")
    session.run("python", "scripts/regenerate.py")


@nox.session(python=PYTHON)
def check_generated(session: nox.Session) -> None:
    """Fail, listing the files, if generated/ or the bundled spec drifted from their sources."""
    session.install("-e", ".[regen]")
    session.run("python", "scripts/regenerate.py", "--check")


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """All tests, once per Python found: drift check, lint, mypy --strict, docs build, pytest (unit, conformance...)."""
    session.install("-e", ".[dev]")
    session.run("python", "scripts/regenerate.py", "--check")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)
    session.run("mypy", "--strict")
    _build_docs(session)
    _pytest(session)


def _build_docs(session: nox.Session) -> None:
    # --strict: a broken link or anchor, or any other warning, fails the build. Offline (see mkdocs.yml).
    session.run("mkdocs", "build", "--strict", "--site-dir", str(Path(session.create_tmp()) / "site"), env=_DOCS_ENV)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ with `mkdocs build --strict`, offline (`-- ARGS` go to mkdocs build)."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env=_DOCS_ENV)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The conformance suite (spec, client, server): `seedream conformance`, the command users run.

    Offline against the embedded simulator by default. Against a live server:
    `EVOLINK_API_KEY=... nox -s conformance -- --base-url https://api.evolink.ai` (zero-spend:
    only requests the spec says must be rejected, and free reads of the tasks you own:
    `--task-id ID`, `--ledger PATH`); add `--allow-spend N` to allow at most N billable
    one-image generations (one followed to its end, then the stateful phase);
    `--junitxml`, `--summary-md`, `--json PATH` for reports.
    Exit codes 0/1/2/3: docs/conformance.md.
    """
    session.install("-e", ".[dev]")
    session.run("seedream", "conformance", *session.posargs)


@nox.session(python=PYTHON)
def upstream(session: nox.Session) -> None:
    """Live, opt-in, never in CI: fetch the vendor's pages and classify how they differ from openapi/.

    Prints each change with its JSON pointer and who it breaks (callers,
    readers) or whether it is compatible or cosmetic. `nox -s upstream -- --apply`
    updates openapi/vendor/ and regenerates; `-- --page image-generate=PATH`
    reads a saved page instead of the published one.
    """
    session.install("-e", ".[regen]")
    session.run("python", "scripts/upstream.py", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks (issue 7): prints one table, writes bench-results/latest.json and latest.md.

    A full run also rewrites the table of docs/benchmarks.md (between its markers).
    `nox -s bench -- --quick` for a short run, `-- --skip-suite` without the
    offline test-suite timing, `-- --figures 1,2` for some figures only (these
    leave docs/benchmarks.md as it is).
    """
    session.install("-e", ".[dev,bench]")
    session.run("python", "-m", "bench.run", "--docs-page", "docs/benchmarks.md", *session.posargs)
