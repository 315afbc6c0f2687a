"""The repository needs nothing outside itself.

A copy of the repository's files alone, in an empty folder, runs the spec
layer (the tests that read the vendor page and the facts), and an audit hook
in that run reports every file opened outside the copy, the interpreter and
the system directories. The copied sources keep the checksums their
provenance note records.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "openapi" / "sources"
# Not part of the repository even when present in a checkout (tools' output and caches).
_NOT_COPIED = {".git", ".venv", ".nox", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}

# Runs in the child: pytest under an audit hook that records files opened outside the allowed roots.
_AUDITED_PYTEST = """
import os, sys, sysconfig
copy = os.path.realpath(sys.argv[1])
allowed = {copy, sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
allowed |= {"/dev", "/proc", "/sys", "/etc", "/usr", "/lib", "/lib64"}
allowed = tuple(os.path.realpath(p).rstrip(os.sep) + os.sep for p in allowed)
outside = set()
def audit(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if os.path.isfile(path) and not (path + os.sep).startswith(allowed):
            outside.add(path)
sys.addaudithook(audit)
import pytest
status = pytest.main(sys.argv[2:])
for path in sorted(outside):
    print("opened outside the copy:", path)
sys.exit(status or (99 if outside else 0))
"""


def _repository_files() -> list[Path]:
    """Tracked and not-ignored files (git), else the tree without tools' directories (an unpacked sdist)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and not _NOT_COPIED & set(p.relative_to(ROOT).parts)]
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def test_a_copy_of_the_repository_alone_passes_the_spec_layer(tmp_path: Path) -> None:
    copy = tmp_path / "clone"
    files = _repository_files()
    # Found by name: the conformance suite may move within the repository.
    [spec_layer] = [str(p.relative_to(ROOT)) for p in files if p.name == "test_spec_layer.py"]
    for source in files:
        target = copy / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    # The copy's own code, not the checkout's (an editable install points at the checkout).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy / "src"), str(copy / "generated")])}
    result = subprocess.run(
        [sys.executable, "-c", _AUDITED_PYTEST, str(copy), "-q", "-p", "no:cacheprovider", spec_layer],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "opened outside the copy" not in report
    assert re.search(r"\b\d+ passed\b", report), report


def test_copied_sources_keep_the_checksums_their_provenance_note_records() -> None:
    note = (SOURCES / "PROVENANCE.md").read_text(encoding="utf-8")
    recorded = dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", note, re.M))
    assert set(recorded) == {p.name for p in SOURCES.iterdir() if p.name != "PROVENANCE.md"}
    for name, digest in recorded.items():
        assert hashlib.sha256((SOURCES / name).read_bytes()).hexdigest() == digest, name


def test_nothing_in_the_repository_reads_the_teams_shared_folder() -> None:
    pattern = re.compile(r"""parent\s*/\s*["']shared["']|\.\./shared/|/work/shared""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _repository_files()
        if path.suffix in {".py", ".md", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".jinja"}
        and path.parent != SOURCES
        and path != Path(__file__).resolve()
        and pattern.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
