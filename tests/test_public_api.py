"""The public surface of ``seedream``: lazy, complete and consistent."""

from __future__ import annotations

import subprocess
import sys

import pytest

import seedream


def test_every_public_name_resolves_to_the_object_its_module_defines() -> None:
    from importlib import import_module

    names = set(seedream.__all__) - {"__version__"}
    assert names == set(seedream._EXPORTS)
    for name in names:
        module = import_module(f"seedream.{seedream._EXPORTS[name]}")
        assert getattr(seedream, name) is getattr(module, name)
        assert name in module.__all__, f"{name} missing from {module.__name__}.__all__"


def test_importing_seedream_imports_nothing_heavy() -> None:
    code = "import sys, seedream; print(sorted({'httpx', 'seedream_client', 'PIL'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        seedream.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_public_names_follow_the_submodule_sys_modules_holds_now(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytester (and reloads) replace submodules; a cached export would then be a second, different class.
    import types

    assert seedream.ServerError is not None  # looked up once before the swap
    stand_in = types.ModuleType("seedream._errors")
    stand_in.ServerError = type("ServerError", (Exception,), {})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "seedream._errors", stand_in)
    assert seedream.ServerError is stand_in.ServerError  # type: ignore[attr-defined]


def test_the_names_type_checkers_see_are_the_names_exported() -> None:
    # The TYPE_CHECKING imports of seedream/__init__.py repeat _MODULES for mypy and IDEs: each name from its module.
    import ast
    from pathlib import Path

    tree = ast.parse(Path(seedream.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen = {
        alias.name: (node.module or "")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }
    assert seen == seedream._EXPORTS
