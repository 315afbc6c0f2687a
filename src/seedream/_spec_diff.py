"""Classify the changes between two OpenAPI documents by who they break.

No well-kept Python library does this (oasdiff and openapi-changes are Go
binaries), so this is a small one over parsed documents. It walks the
operations of both documents (matched by path and method), resolving
``$ref``s inside each document, and compares parameters, request bodies and
responses schema by schema. Every change gets the JSON pointer where it
happened (in the new document; in the old one for a removal), a kind and a
classification by direction:

* request side (what callers send): a new or tighter constraint (lower
  ``maxLength``/``maxItems``/``maximum``, higher ``minimum``/``minLength``, a
  new or changed ``pattern``/``format``, a removed enum value), a new required
  field or parameter, a narrowed type, a removed field → ``breaking-callers``;
* response side (what readers get): a new enum value, a removed field, a
  changed or widened type, a loosened or dropped constraint → ``breaking-readers``;
* the opposite direction of each (loosened request constraints, an added
  optional field, a tighter response) → ``compatible``;
* description, summary, title and example changes (and ``x-`` extensions)
  → ``cosmetic``.

A keyword this module does not know is reported as changed and, to be safe,
breaking in its direction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["CLASSIFICATIONS", "Change", "diff_documents", "summarise"]

Classification = Literal["breaking-callers", "breaking-readers", "compatible", "cosmetic"]
CLASSIFICATIONS: Final = ("breaking-callers", "breaking-readers", "compatible", "cosmetic")
Direction = Literal["request", "response"]

_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_COSMETIC: Final = frozenset({"description", "summary", "title", "example", "examples", "externalDocs", "deprecated"})
# keyword -> the direction of a *larger* value: True when larger means looser.
_UPPER: Final = {"maxLength": True, "maxItems": True, "maximum": True, "exclusiveMaximum": True, "maxProperties": True}
_LOWER: Final = {
    "minLength": False,
    "minItems": False,
    "minimum": False,
    "exclusiveMinimum": False,
    "minProperties": False,
}
_SHAPE: Final = frozenset({"pattern", "format", "const", "multipleOf", "uniqueItems"})
_STRUCTURE: Final = frozenset({"$ref", "type", "enum", "properties", "required", "items", "additionalProperties"})
_COMBINERS: Final = ("allOf", "anyOf", "oneOf")


@dataclass(frozen=True, order=True)
class Change:
    """One difference: where (JSON pointer), what (kind), who it breaks, and old → new in short."""

    pointer: str
    kind: str
    classification: Classification
    operation: str  # "POST /v1/images/generations", or "" for document-level changes
    detail: str


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Doc:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc

    def resolve(self, node: Any, pointer: str) -> tuple[Any, str]:
        """(node with its ``$ref`` chain followed, pointer of where it is defined); siblings of $ref win."""
        seen: set[str] = set()
        siblings: dict[str, Any] = {}
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#") or ref in seen:
                raise ValueError(f"{pointer}: $ref {ref!r} is external or circular")
            seen.add(ref)
            siblings = {k: v for k, v in node.items() if k != "$ref"} | siblings
            target: Any = self.doc
            for raw in ref[1:].lstrip("/").split("/") if ref != "#" else []:
                key = raw.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or key not in target:
                    raise ValueError(f"{pointer}: $ref {ref!r} points at nothing")
                target = target[key]
            node, pointer = target, ref[1:]
        if siblings and isinstance(node, Mapping):
            node = {**node, **siblings}
        return node, pointer


def _breaks(direction: Direction) -> Classification:
    return "breaking-callers" if direction == "request" else "breaking-readers"


def _tight(direction: Direction, tighter: bool) -> Classification:
    """A tighter request constraint breaks callers; a looser response constraint breaks readers."""
    if direction == "request":
        return "breaking-callers" if tighter else "compatible"
    return "compatible" if tighter else "breaking-readers"


class _Differ:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = _Doc(old), _Doc(new)
        self.changes: dict[tuple[str, str, str], Change] = {}
        self.operation = ""
        self.visiting: set[tuple[str, str, str]] = set()

    def add(self, pointer: str, kind: str, classification: Classification, old: Any = None, new: Any = None) -> None:
        detail = f"{_short(old)} → {_short(new)}" if old is not None or new is not None else ""
        key = (pointer, kind, classification)
        if key not in self.changes:
            self.changes[key] = Change(pointer, kind, classification, self.operation, detail)

    # -- documents and operations --------------------------------------------------------------------

    def documents(self) -> None:
        old, new = self.old.doc, self.new.doc
        for key in ("info", "tags"):
            if old.get(key) != new.get(key):
                self.add(f"/{key}", f"{key}-changed", "cosmetic", old.get(key), new.get(key))
        if old.get("servers") != new.get("servers"):
            self.add("/servers", "servers-changed", "breaking-callers", old.get("servers"), new.get("servers"))
        if old.get("security") != new.get("security"):
            self.add("/security", "security-changed", "breaking-callers", old.get("security"), new.get("security"))
        old_paths, new_paths = old.get("paths") or {}, new.get("paths") or {}
        for path in sorted(set(old_paths) | set(new_paths)):
            base = f"/paths/{_escape(path)}"
            old_item, _ = self.old.resolve(old_paths.get(path) or {}, base)
            new_item, _ = self.new.resolve(new_paths.get(path) or {}, base)
            for method in _METHODS:
                self.operation = f"{method.upper()} {path}"
                where = f"{base}/{method}"
                if method not in new_item and method in old_item:
                    self.add(where, "operation-removed", "breaking-callers")
                elif method in new_item and method not in old_item:
                    self.add(where, "operation-added", "compatible")
                elif method in new_item:
                    shared = (old_item.get("parameters") or [], new_item.get("parameters") or [])
                    self.operation_(old_item[method], new_item[method], where, shared)
            self.operation = ""

    def operation_(
        self, old: Mapping[str, Any], new: Mapping[str, Any], where: str, shared: tuple[list[Any], list[Any]]
    ) -> None:
        for key in ("summary", "description", "tags", "operationId", "externalDocs"):
            if old.get(key) != new.get(key):
                self.add(f"{where}/{key}", f"{key}-changed", "cosmetic", old.get(key), new.get(key))
        if old.get("security") != new.get("security"):
            self.add(
                f"{where}/security", "security-changed", "breaking-callers", old.get("security"), new.get("security")
            )
        self.parameters(
            shared[0] + list(old.get("parameters") or []), shared[1] + list(new.get("parameters") or []), where
        )
        self.request_body(old.get("requestBody"), new.get("requestBody"), f"{where}/requestBody")
        self.responses(old.get("responses") or {}, new.get("responses") or {}, f"{where}/responses")

    def _params(self, doc: _Doc, params: list[Any], where: str) -> dict[tuple[str, str], tuple[Mapping[str, Any], str]]:
        found = {}
        for i, raw in enumerate(params):
            param, pointer = doc.resolve(raw, f"{where}/parameters/{i}")
            found[(str(param.get("in")), str(param.get("name")))] = (param, pointer)
        return found

    def parameters(self, old: list[Any], new: list[Any], where: str) -> None:
        old_params, new_params = self._params(self.old, old, where), self._params(self.new, new, where)
        for key in sorted(set(old_params) | set(new_params)):
            label = f"{key[0]} parameter {key[1]!r}"
            if key not in new_params:
                self.add(old_params[key][1], "parameter-removed", "breaking-callers", label, None)
                continue
            param, pointer = new_params[key]
            if key not in old_params:
                required = bool(param.get("required"))
                kind = "required-parameter-added" if required else "optional-parameter-added"
                self.add(pointer, kind, "breaking-callers" if required else "compatible", None, label)
                continue
            before, _ = old_params[key]
            if bool(before.get("required")) != bool(param.get("required")):
                became = bool(param.get("required"))
                self.add(
                    f"{pointer}/required",
                    "parameter-required-changed",
                    _tight("request", became),
                    before.get("required"),
                    param.get("required"),
                )
            for field in sorted((set(before) | set(param)) - {"name", "in", "required", "schema"}):
                if before.get(field) == param.get(field):
                    continue
                if field in _COSMETIC or field.startswith("x-"):
                    self.add(f"{pointer}/{field}", f"{field}-changed", "cosmetic")
                else:  # style, explode, content, ...: how callers must send it
                    self.add(
                        f"{pointer}/{field}",
                        f"parameter-{field}-changed",
                        "breaking-callers",
                        before.get(field),
                        param.get(field),
                    )
            self.schema(before.get("schema") or {}, param.get("schema") or {}, f"{pointer}/schema", "request")

    def _content(self, old: Mapping[str, Any], new: Mapping[str, Any], where: str, direction: Direction) -> None:
        old_media, new_media = old.get("content") or {}, new.get("content") or {}
        for media in sorted(set(old_media) | set(new_media)):
            pointer = f"{where}/content/{_escape(media)}"
            if media not in new_media:
                self.add(pointer, "media-type-removed", _breaks(direction), media, None)
            elif media not in old_media:
                self.add(
                    pointer,
                    "media-type-added",
                    "compatible" if direction == "request" else _breaks(direction),
                    None,
                    media,
                )
            else:
                before, after = old_media[media], new_media[media]
                for cosmetic in ("example", "examples"):
                    if before.get(cosmetic) != after.get(cosmetic):
                        self.add(f"{pointer}/{cosmetic}", f"{cosmetic}-changed", "cosmetic")
                self.schema(before.get("schema") or {}, after.get("schema") or {}, f"{pointer}/schema", direction)

    def request_body(self, old: Any, new: Any, where: str) -> None:
        if old is None and new is None:
            return
        before, _ = self.old.resolve(old or {}, where)
        after, pointer = self.new.resolve(new or {}, where)
        if bool(before.get("required")) != bool(after.get("required")):
            became = bool(after.get("required"))
            self.add(
                f"{pointer}/required",
                "request-body-required-changed",
                _tight("request", became),
                before.get("required"),
                after.get("required"),
            )
        if before.get("description") != after.get("description"):
            self.add(f"{pointer}/description", "description-changed", "cosmetic")
        self._content(before, after, pointer, "request")

    def responses(self, old: Mapping[str, Any], new: Mapping[str, Any], where: str) -> None:
        for status in sorted(set(old) | set(new), key=str):
            pointer = f"{where}/{_escape(str(status))}"
            if status not in new:
                self.add(pointer, "response-removed", "compatible", str(status), None)
                continue
            if status not in old:
                # A status readers never saw documented: they must handle it now.
                self.add(pointer, "response-added", "breaking-readers", None, str(status))
                continue
            before, _ = self.old.resolve(old[status], pointer)
            after, pointer = self.new.resolve(new[status], pointer)
            if before.get("description") != after.get("description"):
                self.add(f"{pointer}/description", "description-changed", "cosmetic")
            if before.get("links") != after.get("links"):
                self.add(f"{pointer}/links", "links-changed", "compatible")
            if before.get("headers") != after.get("headers"):
                self.add(f"{pointer}/headers", "response-headers-changed", "breaking-readers")
            self._content(before, after, pointer, "response")

    # -- schemas ----------------------------------------------------------------------------------------

    def schema(self, old_raw: Any, new_raw: Any, where: str, direction: Direction) -> None:
        old, old_at = self.old.resolve(old_raw, where)
        new, at = self.new.resolve(new_raw, where)
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            if old != new:
                self.add(at, "schema-changed", _breaks(direction), old, new)
            return
        key = (old_at, at, direction)
        if key in self.visiting:  # a recursive schema: already being compared on this path
            return
        self.visiting.add(key)
        try:
            self._schema(old, new, at, direction)
        finally:
            self.visiting.discard(key)

    def _schema(self, old: Mapping[str, Any], new: Mapping[str, Any], at: str, direction: Direction) -> None:
        for keyword in sorted(set(old) | set(new)):
            before, after = old.get(keyword), new.get(keyword)
            if before == after and keyword not in {"properties", "items", "additionalProperties", *_COMBINERS}:
                continue
            pointer = f"{at}/{_escape(keyword)}"
            if keyword in _COSMETIC or keyword.startswith("x-"):
                self.add(pointer, f"{keyword}-changed", "cosmetic", None, None)
            elif keyword == "default":
                self.add(
                    pointer,
                    "default-changed",
                    "breaking-callers" if direction == "request" else "cosmetic",
                    before,
                    after,
                )
            elif keyword == "type":
                self._type(before, after, pointer, direction)
            elif keyword == "enum":
                self._enum(before, after, pointer, direction)
            elif keyword in _UPPER or keyword in _LOWER:
                self._bound(keyword, before, after, pointer, direction)
            elif keyword in _SHAPE:
                # Added or changed: a new rule values must meet (tighter); removed: looser.
                tighter = after is not None
                kind = f"{keyword}-{'added' if before is None else 'removed' if after is None else 'changed'}"
                changed = before is not None and after is not None
                classification = _breaks(direction) if changed else _tight(direction, tighter)
                self.add(pointer, kind, classification, before, after)
            elif keyword == "required":
                self._required(before or [], after or [], pointer, direction)
            elif keyword == "properties":
                self._properties(before or {}, after or {}, pointer, direction, new.get("required") or [])
            elif keyword == "items":
                if before is None or after is None:
                    self.add(
                        pointer,
                        f"items-{'added' if before is None else 'removed'}",
                        _tight(direction, before is None),
                        before,
                        after,
                    )
                else:
                    self.schema(before, after, pointer, direction)
            elif keyword == "additionalProperties":
                self._additional(before, after, pointer, direction)
            elif keyword in _COMBINERS:
                before, after = before or [], after or []
                if len(before) != len(after):
                    self.add(pointer, f"{keyword}-changed", _breaks(direction), len(before), len(after))
                for i, (b, a) in enumerate(zip(before, after, strict=False)):
                    self.schema(b, a, f"{pointer}/{i}", direction)
            else:
                self.add(pointer, f"{keyword}-changed", _breaks(direction), before, after)

    def _type(self, before: Any, after: Any, pointer: str, direction: Direction) -> None:
        def kinds(value: Any) -> set[str]:
            if value is None:
                return {"any"}
            return {value} if isinstance(value, str) else set(value)

        old, new = kinds(before), kinds(after)
        narrowed = not old <= new and "any" not in new  # some old type no longer accepted
        widened = not new <= old and "any" not in old  # some new type readers never saw
        if direction == "request":
            classification: Classification = "breaking-callers" if narrowed or "any" in old else "compatible"
        else:
            classification = "breaking-readers" if widened or "any" in new else "compatible"
        self.add(pointer, "type-changed", classification, before, after)

    def _enum(self, before: Any, after: Any, pointer: str, direction: Direction) -> None:
        if before is None or after is None:
            self.add(
                pointer,
                f"enum-{'added' if before is None else 'removed'}",
                _tight(direction, before is None),
                before,
                after,
            )
            return
        removed = [v for v in before if v not in after]
        added = [v for v in after if v not in before]
        if removed:
            self.add(pointer, "enum-value-removed", _tight(direction, True), removed, None)
        if added:
            self.add(pointer, "enum-value-added", _tight(direction, False), None, added)

    def _bound(self, keyword: str, before: Any, after: Any, pointer: str, direction: Direction) -> None:
        upper = keyword in _UPPER
        if before is None or after is None:
            tighter = before is None  # a bound added tightens, a bound removed loosens
            self.add(
                pointer, f"{keyword}-{'added' if tighter else 'removed'}", _tight(direction, tighter), before, after
            )
            return
        lowered = after < before
        tighter = lowered if upper else not lowered
        self.add(pointer, f"{keyword}-{'lowered' if lowered else 'raised'}", _tight(direction, tighter), before, after)

    def _required(self, before: list[str], after: list[str], pointer: str, direction: Direction) -> None:
        for name in after:
            if name not in before:
                self.add(f"{pointer}/{_escape(name)}", "field-became-required", _tight(direction, True), None, name)
        for name in before:
            if name not in after:
                self.add(f"{pointer}/{_escape(name)}", "field-no-longer-required", _tight(direction, False), name, None)

    def _properties(
        self,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
        pointer: str,
        direction: Direction,
        required: list[str],
    ) -> None:
        for name in sorted(set(before) | set(after)):
            at = f"{pointer}/{_escape(name)}"
            if name not in after:
                # Callers sending it are no longer understood; readers relying on it lose it.
                self.add(at, "field-removed", _breaks(direction), name, None)
            elif name not in before:
                needed = direction == "request" and name in required
                self.add(
                    at,
                    "required-field-added" if needed else "optional-field-added",
                    "breaking-callers" if needed else "compatible",
                    None,
                    name,
                )
            else:
                self.schema(before[name], after[name], at, direction)

    def _additional(self, before: Any, after: Any, pointer: str, direction: Direction) -> None:
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            self.schema(before, after, pointer, direction)
        elif before != after:
            closed = after is False or (isinstance(after, Mapping) and before in (None, True))
            self.add(pointer, "additional-properties-changed", _tight(direction, closed), before, after)


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, sorted by pointer (see the module docstring)."""
    differ = _Differ(old, new)
    differ.documents()
    return sorted(differ.changes.values())


def summarise(changes: list[Change]) -> Iterator[str]:
    """Report lines, the breaking ones first."""
    for classification in CLASSIFICATIONS:
        group = [c for c in changes if c.classification == classification]
        if group:
            yield f"{classification} ({len(group)}):"
            for change in group:
                where = f"  [{change.operation}]" if change.operation else ""
                detail = f"  {change.detail}" if change.detail else ""
                yield f"  {change.kind:<32} {change.pointer}{where}{detail}"
