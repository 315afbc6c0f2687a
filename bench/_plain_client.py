"""The plain openapi-python-client output of the vendor YAML, generated into a temporary directory."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from ._spec_bodies import VENDOR_YAML

__all__ = ["PACKAGE", "generate_plain_client"]

PACKAGE = "plain_seedream_vendor"


def generate_plain_client(workdir: Path) -> tuple[ModuleType, float, str]:
    """Generate with the generator's defaults (``--meta none``, its own ruff post-hooks) and import it.

    Returns the package, the generation wall time in seconds and the generator version.
    """
    out = workdir / PACKAGE
    env_bin = str(Path(sys.executable).parent)  # the post-hooks call `ruff`: use this environment's
    cmd = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(VENDOR_YAML)]
    cmd += ["--meta", "none", "--output-path", str(out)]
    start = time.perf_counter()
    result = subprocess.run(
        cmd, cwd=workdir, capture_output=True, text=True, env={"PATH": f"{env_bin}:/usr/bin:/bin", "HOME": str(workdir)}
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0 or not (out / "__init__.py").exists():
        raise RuntimeError(f"openapi-python-client failed:\n{result.stdout}\n{result.stderr}")
    sys.path.insert(0, str(workdir))
    importlib.invalidate_caches()
    package = importlib.import_module(PACKAGE)
    return package, seconds, importlib.metadata.version("openapi-python-client")
