"""Generate src/seedream/_sync/ from the hand-written src/seedream/_async/ (httpcore's scripts/unasync.py, adapted).

Each module of ``_async/`` but ``_primitives.py`` (the one place where the two
sides truly differ, written by hand on both) goes through the token
substitutions of :data:`SUBS`, line by line, then ``ruff format`` (a line shortened by a dropped ``await`` may
join its neighbour), and gets the generated header. A substitution that no
longer matches anything is an error, so the table cannot rot.

``--check`` writes nothing: it lists every sync file that is not the transform of its async source (a hand edit,
a missing or an extra file) and exits 1. ``scripts/regenerate.py`` runs both modes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASYNC_DIR = ROOT / "src" / "seedream" / "_async"
SYNC_DIR = ROOT / "src" / "seedream" / "_sync"
HAND_WRITTEN = frozenset({"_primitives.py"})  # one per side, never transformed

HEADER = (
    "# GENERATED FILE - DO NOT EDIT. scripts/unasync.py from src/seedream/_async/{name}; run `nox -s regenerate`.\n"
)

# (pattern, replacement), each matched on word boundaries, applied in order.
SUBS: list[tuple[str, str]] = [
    ("AsyncIterator", "Iterator"),
    ("Async([A-Z][A-Za-z0-9_]*)", r"\1"),
    ("async def", "def"),
    ("async for", "for"),
    ("await ", ""),
    ("aclose", "close"),
    ("aiter_raw", "iter_raw"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
]
_COMPILED = [(re.compile(r"(?:^|\b)" + pattern + r"(?:$|\b)"), repl) for pattern, repl in SUBS]


def unasync_text(text: str, used: set[int] | None = None) -> str:
    """The sync form of one async module's text (before formatting)."""
    out = []
    for line in text.splitlines(keepends=True):
        for index, (regex, repl) in enumerate(_COMPILED):
            new = regex.sub(repl, line)
            if new != line and used is not None:
                used.add(index)
            line = new
        out.append(line)
    return "".join(out)


def _ruff_format(text: str, name: str) -> str:
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        # Isolated, with pyproject.toml's settings spelt out: the output must not depend on where it runs.
        [str(ruff), "format", "--isolated", "--line-length", "120", "--target-version", "py311", "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"unasync: ruff format failed on {name}\n{result.stderr}")
    return result.stdout


def expected(async_dir: Path = ASYNC_DIR) -> dict[str, str]:
    """File name -> the text its sync twin must have."""
    used: set[int] = set()
    files = {}
    for path in sorted(async_dir.glob("*.py")):
        if path.name in HAND_WRITTEN:
            continue
        body = unasync_text(path.read_text(encoding="utf-8"), used)
        files[path.name] = HEADER.format(name=path.name) + _ruff_format(body, path.name)
    unused = [SUBS[i][0] for i in range(len(SUBS)) if i not in used]
    if unused:
        raise SystemExit(f"unasync: substitutions that match nothing (remove them): {', '.join(unused)}")
    return files


def problems(files: dict[str, str], sync_dir: Path = SYNC_DIR) -> list[str]:
    """Every way ``sync_dir`` differs from ``files``; the hand-written primitives must exist."""
    out = []
    for name, text in files.items():
        path = sync_dir / name
        if not path.exists():
            out.append(f"{name} (missing)")
        elif path.read_text(encoding="utf-8") != text:
            out.append(f"{name} (differs from the transform of _async/{name})")
    for path in sorted(sync_dir.glob("*.py")):
        if path.name not in files and path.name not in HAND_WRITTEN:
            out.append(f"{path.name} (no async source: remove it)")
    for name in sorted(HAND_WRITTEN):
        if not (sync_dir / name).exists():
            out.append(f"{name} (the hand-written sync primitives are missing)")
    return ["src/seedream/_sync/" + p for p in out]


def write(files: dict[str, str], sync_dir: Path = SYNC_DIR) -> None:
    sync_dir.mkdir(parents=True, exist_ok=True)
    for path in sync_dir.glob("*.py"):
        if path.name not in files and path.name not in HAND_WRITTEN:
            path.unlink()
    for name, text in files.items():
        (sync_dir / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed sync code; change nothing")
    args = parser.parse_args(argv)
    files = expected()
    if args.check:
        found = problems(files)
        for problem in found:
            print("  " + problem, file=sys.stderr)
        return 1 if found else 0
    write(files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
