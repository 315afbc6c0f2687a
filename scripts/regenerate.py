"""Regenerate everything derived from the spec sources, whole and deterministically.

    bundle (scripts/bundle.py) -> openapi/bundled/seedream.openapi.yaml
    validate (openapi-spec-validator)
    every `x-seedream-rules` id must have an implementation in src/seedream_rules/
    openapi-python-client --fail-on-warning with scripts/templates and
        scripts/generator-config.yaml into a temporary directory
    stamp a GENERATED header on every file, add the bundled spec as JSON
        (seedream_client/openapi.json: what the runtime and simulator load)
    replace generated/seedream_client/ whole
    unasync (scripts/unasync.py): src/seedream/_sync/ from the hand-written src/seedream/_async/

``--check`` regenerates into a temporary tree and compares it with the
committed files instead (the sync client with the transform of the async one):
it lists every file that differs and exits 1.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bundle
import unasync

sys.path.insert(0, str(bundle.ROOT / "src"))  # the rule package of this tree, not an installed copy

import seedream_rules

ROOT = bundle.ROOT
PACKAGE = ROOT / "generated" / "seedream_client"
TEMPLATES = ROOT / "scripts" / "templates"
CONFIG = ROOT / "scripts" / "generator-config.yaml"

# Keep in step with the `regen` extra of pyproject.toml's [project.optional-dependencies].
PINNED = {"openapi-python-client": "0.29.1", "ruff": "0.17.6"}

PY_HEADER = (
    "# GENERATED FILE - DO NOT EDIT. openapi-python-client {version} from\n"
    "# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.\n"
)


def _check_pins() -> None:
    for name, want in PINNED.items():
        have = importlib.metadata.version(name)
        if have != want:
            raise SystemExit(f"regenerate: {name} {have} installed, {want} pinned (pip install -e '.[regen]')")


def _validate(path: Path) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    spec, _ = read_from_filename(str(path))
    validate(spec)


def _rule_ids(node: object) -> list[str]:
    if isinstance(node, dict):
        return list(node.get("x-seedream-rules", [])) + [i for v in node.values() for i in _rule_ids(v)]
    if isinstance(node, list):
        return [i for v in node for i in _rule_ids(v)]
    return []


def _check_rule_ids(doc: object) -> None:
    missing = seedream_rules.unimplemented(_rule_ids(doc))
    if missing:
        raise SystemExit(
            "regenerate: x-seedream-rules ids without an implementation in src/seedream_rules/: "
            + ", ".join(sorted(set(missing)))
        )


def _ruff_bin() -> str:
    # The post-hooks call `ruff`; make sure it is the pinned one from this environment.
    return str(Path(sys.executable).parent)


def _stamp(tree: Path) -> None:
    header = PY_HEADER.format(version=PINNED["openapi-python-client"])
    for path in sorted(tree.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".typed"}:
            path.write_text(header + path.read_text(encoding="utf-8"), encoding="utf-8")


def build(into: Path, spec_path: Path) -> None:
    """Generate the package from ``spec_path`` into ``into`` (which must not exist)."""
    env = {"PATH": _ruff_bin() + ":/usr/bin:/bin", "HOME": str(into.parent)}
    cmd = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(spec_path),
        "--meta",
        "none",
        "--output-path",
        str(into),
        "--config",
        str(CONFIG),
        "--custom-template-path",
        str(TEMPLATES),
        "--fail-on-warning",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=into.parent)
    if result.returncode != 0 or not (into / "__init__.py").exists():
        raise SystemExit(f"regenerate: openapi-python-client failed\n{result.stdout}\n{result.stderr}")
    (into / "py.typed").write_text("", encoding="utf-8")
    _stamp(into)
    # JSON has no comments: the header is the first key.
    doc = {"x-generated": "GENERATED FILE - DO NOT EDIT. scripts/regenerate.py from openapi/; run `nox -s regenerate`."}
    doc.update(bundle.bundle())
    (into / "openapi.json").write_text(bundle.as_json(doc), encoding="utf-8")


def generate_tree(workdir: Path) -> tuple[str, Path]:
    """Bundle, validate and generate into ``workdir``; return the bundled text and the package."""
    doc = bundle.bundle()
    _check_rule_ids(doc)
    text = bundle.dump(doc)
    spec_path = workdir / "seedream.openapi.yaml"
    spec_path.write_text(text, encoding="utf-8")
    _validate(spec_path)
    package = workdir / "seedream_client"
    build(package, spec_path)
    return text, package


def _diff(a: Path, b: Path, rel: Path = Path()) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [str(rel / n) + " (only in fresh output)" for n in cmp.left_only]
    out += [str(rel / n) + " (not generated: remove or regenerate)" for n in cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    out += [str(rel / n) + " (differs)" for n in mismatch + errors]
    for sub in cmp.common_dirs:
        out += _diff(a / sub, b / sub, rel / sub)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed output; change nothing")
    args = parser.parse_args(argv)
    _check_pins()
    sync_files = unasync.expected()  # first: quick, and fails on a substitution that matches nothing
    with tempfile.TemporaryDirectory(prefix="seedream-regen-") as tmp:
        text, package = generate_tree(Path(tmp))
        if args.check:
            problems = []
            if not bundle.BUNDLED.exists() or bundle.BUNDLED.read_text(encoding="utf-8") != text:
                problems.append(str(bundle.BUNDLED.relative_to(ROOT)) + " (differs)")
            if PACKAGE.exists():
                problems += ["generated/seedream_client/" + p for p in _diff(package, PACKAGE)]
            else:
                problems.append("generated/seedream_client (missing)")
            problems += unasync.problems(sync_files)
            if problems:
                print("generated files are out of date with openapi/ and scripts/:", file=sys.stderr)
                for p in problems:
                    print("  " + p, file=sys.stderr)
                print("run `nox -s regenerate` and commit; never edit generated files by hand", file=sys.stderr)
                return 1
            print("regenerate --check: generated files match their sources")
            return 0
        bundle.BUNDLED.parent.mkdir(parents=True, exist_ok=True)
        bundle.BUNDLED.write_text(text, encoding="utf-8")
        if PACKAGE.exists():
            shutil.rmtree(PACKAGE)
        PACKAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(package, PACKAGE)
    unasync.write(sync_files)
    print(
        f"regenerate: wrote {bundle.BUNDLED.relative_to(ROOT)}, {PACKAGE.relative_to(ROOT)}/"
        f" and {unasync.SYNC_DIR.relative_to(ROOT)}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
