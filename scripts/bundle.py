"""Bundle the vendor spec, our companion spec and the overlay into one document.

openapi-python-client does not resolve external ``$ref``s (it drops the model
and still exits 0), so the output must be self-contained:

1. merge each companion's (``openapi/companion/*.yaml``) paths, tags and
   components into the vendor document,
   turning ``../vendor/<file>#/<ptr>`` references into internal ``#/<ptr>``;
2. apply the Overlay 1.0 actions (a small applier: ``update`` / ``remove`` on
   dotted JSONPath targets, each of which must match exactly one node);
3. point every reference at a component: a reference to a node that is itself
   a ``$ref`` collapses onto it; a reference into an inline schema is refused;
4. check no external reference is left.

Run: ``python scripts/bundle.py`` writes ``openapi/bundled/seedream.openapi.yaml``.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "openapi" / "vendor" / "seedream-5.0-lite-image-generate.yaml"
COMPANIONS = ROOT / "openapi" / "companion"  # every *.yaml there, merged in name order
OVERLAY = ROOT / "openapi" / "overlay.yaml"
BUNDLED = ROOT / "openapi" / "bundled" / "seedream.openapi.yaml"

HEADER = (
    "# GENERATED FILE - DO NOT EDIT.\n"
    "# Bundled by scripts/bundle.py from openapi/vendor/ (verbatim vendor YAML),\n"
    "# openapi/companion/ and openapi/overlay.yaml. Edit those and run\n"
    "# `nox -s regenerate`.\n"
)


class BundleError(Exception):
    """The sources cannot be bundled into one valid document."""


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _walk_refs(node: Any, fn: Any) -> None:
    """Call ``fn(mapping)`` on every mapping holding a ``$ref``."""
    if isinstance(node, dict):
        if "$ref" in node:
            fn(node)
        for value in node.values():
            _walk_refs(value, fn)
    elif isinstance(node, list):
        for value in node:
            _walk_refs(value, fn)


def _internalise(companion: Any, vendor_name: str) -> None:
    def fix(node: dict[str, Any]) -> None:
        ref = node["$ref"]
        if ref.startswith("#"):
            return
        file_part, _, pointer = ref.partition("#")
        if Path(file_part).name != vendor_name:
            raise BundleError(f"unsupported external $ref {ref!r}")
        node["$ref"] = "#" + pointer

    _walk_refs(companion, fix)


def merge(vendor: Any, companion: Any) -> Any:
    doc = copy.deepcopy(vendor)
    companion = copy.deepcopy(companion)
    _internalise(companion, VENDOR.name)
    for path, item in companion.get("paths", {}).items():
        if path in doc["paths"]:
            raise BundleError(f"path {path} defined twice")
        doc["paths"][path] = item
    known_tags = {t["name"] for t in doc.get("tags", [])}
    for tag in companion.get("tags", []):
        if tag["name"] not in known_tags:
            doc.setdefault("tags", []).append(tag)
    for kind, items in companion.get("components", {}).items():
        target = doc.setdefault("components", {}).setdefault(kind, {})
        for name, value in items.items():
            if name in target:
                raise BundleError(f"components.{kind}.{name} defined twice")
            target[name] = value
    return doc


_SEGMENT = re.compile(r"\.([A-Za-z_][\w-]*)|\['([^']+)'\]")


def _parse_target(target: str) -> list[str]:
    if not target.startswith("$"):
        raise BundleError(f"overlay target {target!r} must start with $")
    rest, keys, pos = target[1:], [], 0
    while pos < len(rest):
        m = _SEGMENT.match(rest, pos)
        if not m:
            raise BundleError(f"overlay target {target!r}: unsupported syntax at {rest[pos:]!r}")
        keys.append(m.group(1) or m.group(2))
        pos = m.end()
    return keys


def _deep_update(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def apply_overlay(doc: Any, overlay: Any) -> Any:
    if not str(overlay.get("overlay", "")).startswith("1."):
        raise BundleError("overlay document must declare `overlay: 1.x`")
    doc = copy.deepcopy(doc)
    for number, action in enumerate(overlay.get("actions", []), 1):
        if not action.get("description"):
            raise BundleError(f"overlay action {number} cites no sentence (description)")
        keys = _parse_target(action["target"])
        parent, node = None, doc
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                raise BundleError(f"overlay action {number}: target {action['target']} matches nothing")
            parent, node = node, node[key]
        if action.get("remove"):
            if parent is None:
                raise BundleError("cannot remove the document root")
            del parent[keys[-1]]
        elif "update" in action:
            if not isinstance(node, dict):
                raise BundleError(f"overlay action {number}: target is not an object")
            _deep_update(node, action["update"])
        else:
            raise BundleError(f"overlay action {number} neither updates nor removes")
    return doc


def _resolve_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for raw in pointer.lstrip("/").split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or key not in node:
            raise BundleError(f"$ref #{pointer} points at nothing")
        node = node[key]
    return node


_COMPONENT_REF = re.compile(r"^#/components/[^/]+/[^/]+$")


def collapse_refs(doc: Any) -> None:
    def fix(node: dict[str, Any]) -> None:
        seen = set()
        while not _COMPONENT_REF.match(node["$ref"]):
            ref = node["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise BundleError(f"$ref {ref!r} is external or circular")
            seen.add(ref)
            target = _resolve_pointer(doc, ref[1:])
            if not (isinstance(target, dict) and "$ref" in target):
                raise BundleError(f"$ref {ref!r} points into an inline schema; make it a component")
            node["$ref"] = target["$ref"]

    _walk_refs(doc, fix)


def bundle() -> Any:
    doc = _load(VENDOR)
    for companion in sorted(COMPANIONS.glob("*.yaml")):
        doc = merge(doc, _load(companion))
    doc = apply_overlay(doc, _load(OVERLAY))
    collapse_refs(doc)
    return doc


def dump(doc: Any) -> str:
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def main() -> int:
    try:
        text = dump(bundle())
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 1
    BUNDLED.parent.mkdir(parents=True, exist_ok=True)
    BUNDLED.write_text(text, encoding="utf-8")
    print(f"bundle: wrote {BUNDLED.relative_to(ROOT)}")
    return 0


def as_json(doc: Any) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.exit(main())
