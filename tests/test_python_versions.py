"""Python 3.11-3.13: the classifiers, nox's sessions and CI name the same versions, and CI insists on 3.13."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _noxfile_values() -> dict[str, object]:
    """Module-level constants and ``nox.options.X = ...`` assignments of the noxfile, read without nox."""
    found: dict[str, object] = {}
    for node in ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            name = ast.unparse(target)
            try:
                found[name] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def test_classifiers_and_nox_sessions_name_the_same_python_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    prefix = "Programming Language :: Python :: 3."
    classified = [
        c.removeprefix("Programming Language :: Python :: ") for c in project["classifiers"] if c.startswith(prefix)
    ]
    assert classified == _noxfile_values()["PYTHONS"] == ["3.11", "3.12", "3.13"]
    assert project["requires-python"] == ">=3.11"


def test_nox_skips_a_missing_python_and_never_downloads_one() -> None:
    values = _noxfile_values()
    assert values["nox.options.error_on_missing_interpreters"] is False
    assert values["nox.options.download_python"] == "never"


def test_ci_fails_before_installing_anything_when_python_3_13_is_missing(tmp_path: Path) -> None:
    # A PATH holding only what the script needs up to its check, and an empty pyenv root.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dirname = shutil.which("dirname")
    assert dirname is not None
    (bin_dir / "dirname").symlink_to(dirname)
    (bin_dir / "python3").symlink_to(sys.executable)
    bash = shutil.which("bash")
    assert bash is not None
    env = {"PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "no-pyenv"), "HOME": str(tmp_path)}
    result = subprocess.run(
        [bash, str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "error: CI needs Python 3.13" in result.stderr
    assert result.stdout == ""  # nothing ran: no pip, no nox
