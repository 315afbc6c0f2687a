"""The vendor-document watch, offline: fixture pages (tests/fixtures/upstream/) classified change by change.

Every page is read from a local path; a guard fails any attempt to reach or
resolve a host other than loopback.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from seedream._spec_diff import Change, diff_documents
from seedream._upstream import PAGES, UpstreamError, check_page, extract_yaml, fetch, main

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "upstream"
VENDOR = ROOT / "openapi" / "vendor" / "seedream-5.0-lite-image-generate.yaml"
PAGE = {p.name: p for p in PAGES}

REQ = "/components/schemas/ImageGenerationRequest/properties"
RESP = "/components/schemas/ImageGenerationResponse/properties"
TASK_PARAMS = "/paths/~1v1~1tasks~1{task_id}/get/parameters"

# fixture -> every change it holds: (JSON pointer, kind, classification)
EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    "image-generate": set(),
    "task-detail": set(),
    "request-maxlength-lowered": {(f"{REQ}/prompt/maxLength", "maxLength-lowered", "breaking-callers")},
    "request-pattern-added": {(f"{REQ}/size/pattern", "pattern-added", "breaking-callers")},
    "request-minimum-added": {(f"{REQ}/n/minimum", "minimum-added", "breaking-callers")},
    "request-maxitems-lowered": {(f"{REQ}/image_urls/maxItems", "maxItems-lowered", "breaking-callers")},
    "request-enum-value-removed": {(f"{REQ}/quality/enum", "enum-value-removed", "breaking-callers")},
    "request-required-field-added": {
        ("/components/schemas/ImageGenerationRequest/required/size", "field-became-required", "breaking-callers")
    },
    "request-loosened-and-optional-field": {
        (f"{REQ}/prompt/maxLength", "maxLength-raised", "compatible"),
        (f"{REQ}/seed", "optional-field-added", "compatible"),
    },
    "response-enum-value-added": {(f"{RESP}/status/enum", "enum-value-added", "breaking-readers")},
    "response-field-removed": {(f"{RESP}/created", "field-removed", "breaking-readers")},
    "response-type-changed": {(f"{RESP}/created/type", "type-changed", "breaking-readers")},
    "response-field-added": {(f"{RESP}/request_id", "optional-field-added", "compatible")},
    "error-envelope-field-removed": {
        ("/components/schemas/ErrorResponse/properties/error/properties/type", "field-removed", "breaking-readers")
    },
    "description-only": {
        (f"{REQ}/prompt/example", "example-changed", "cosmetic"),
        (f"{RESP}/created/description", "description-changed", "cosmetic"),
        ("/paths/~1v1~1images~1generations/post/summary", "summary-changed", "cosmetic"),
    },
    "task-param-constraint-and-required-query": {
        (f"{TASK_PARAMS}/0", "required-parameter-added", "breaking-callers"),
        (f"{TASK_PARAMS}/1/schema/maxLength", "maxLength-added", "breaking-callers"),
    },
}


@pytest.fixture(autouse=True)
def _offline(loopback_guard: Callable[[Callable[[object], BaseException]], None]) -> None:
    loopback_guard(lambda host: AssertionError(f"the upstream tests must not resolve {host!r}"))


def _make_fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE = _make_fixtures()


def _page_for(fixture: str) -> str:
    return "task-detail" if fixture.startswith("task-") else "image-generate"


def _fixture(name: str, tmp_path: Path) -> Path:
    """The committed fixture page, or the task-detail ones built now from the bundled spec."""
    if _page_for(name) == "image-generate":
        return FIXTURES / f"{name}.md"
    path = tmp_path / f"{name}.md"
    path.write_text(MAKE.build(name), encoding="utf-8")
    return path


def test_every_fixture_page_has_an_expectation() -> None:
    committed = {p.stem for p in FIXTURES.glob("*.md")}
    built = {name for name, (base, _) in MAKE.FIXTURES.items() if base == MAKE.TASK} | {MAKE.TASK}
    assert committed | built == set(EXPECTED) and not committed & built


def test_the_committed_fixtures_are_what_the_generator_writes() -> None:
    for name, (base, _) in MAKE.FIXTURES.items():
        if base != MAKE.TASK:
            assert (FIXTURES / f"{name}.md").read_text(encoding="utf-8") == MAKE.build(name), name


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_every_fixture_change_is_classified_correctly(fixture: str, tmp_path: Path) -> None:
    report = check_page(PAGE[_page_for(fixture)], ROOT, str(_fixture(fixture, tmp_path)))
    assert {(c.pointer, c.kind, c.classification) for c in report.changes} == EXPECTED[fixture]
    assert report.text_changed is (bool(EXPECTED[fixture]) and _page_for(fixture) == "image-generate")


def test_the_seed_copy_extracts_to_the_vendor_file_byte_for_byte() -> None:
    assert extract_yaml((FIXTURES / "image-generate.md").read_bytes()) == VENDOR.read_bytes()


def test_fetch_reads_paths_and_file_urls_and_names_what_is_missing(tmp_path: Path) -> None:
    page = FIXTURES / "image-generate.md"
    assert fetch(page.as_uri()) == fetch(str(page)) == page.read_bytes()
    with pytest.raises(UpstreamError, match=r"nope\.md"):
        fetch(str(tmp_path / "nope.md"))


@pytest.mark.parametrize(
    ("text", "message"),
    [(b"# a page\nno yaml here\n", "no ````yaml block"), (b"````yaml x\nopenapi: 3.1.0\n", "not closed")],
)
def test_a_page_without_a_closed_yaml_block_is_refused(text: bytes, message: str) -> None:
    with pytest.raises(UpstreamError, match=message):
        extract_yaml(text)


def test_the_report_lists_each_change_under_its_classification() -> None:
    out = io.StringIO()
    page = f"image-generate={FIXTURES / 'request-maxlength-lowered.md'}"
    assert main(["--root", str(ROOT), "--only", "image-generate", "--page", page], out=out) == 0
    text = out.getvalue()
    assert "breaking-callers (1):" in text
    assert f"maxLength-lowered                {REQ}/prompt/maxLength" in text and "2000 → 1500" in text
    assert "upstream: 1 change(s), 1 breaking" in text


def test_bad_page_arguments_name_the_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--root", str(ROOT), "--page", "nosuchpage=x.md"])
    assert "--page 'nosuchpage=x.md'" in capsys.readouterr().err


def _copy_project(dest: Path) -> Path:
    # Everything scripts/regenerate.py reads or writes: the spec, the scripts, generated/ and the async/sync clients.
    for part in ("openapi", "scripts", "generated", "src/seedream/_async", "src/seedream/_sync"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_apply_updates_the_vendor_copy_and_regenerates_in_a_copy_of_the_repository(tmp_path: Path) -> None:
    real = {p: p.read_bytes() for p in (VENDOR, ROOT / "openapi" / "bundled" / "seedream.openapi.yaml")}
    project = _copy_project(tmp_path)
    (project / "tests" / "fixtures" / "upstream").mkdir(parents=True)
    fixture = FIXTURES / "request-maxlength-lowered.md"
    out = io.StringIO()
    args = ["--root", str(project), "--only", "image-generate", "--page", f"image-generate={fixture}", "--apply"]
    assert main(args, out=out) == 0, out.getvalue()
    assert (project / "openapi" / "vendor" / VENDOR.name).read_bytes() == extract_yaml(fixture.read_bytes())
    assert (project / "tests" / "fixtures" / "upstream" / "image-generate.md").read_bytes() == fixture.read_bytes()
    assert "rebuild the fixtures" in out.getvalue()
    bundled = yaml.safe_load((project / "openapi" / "bundled" / "seedream.openapi.yaml").read_text(encoding="utf-8"))
    assert bundled["components"]["schemas"]["ImageGenerationRequest"]["properties"]["prompt"]["maxLength"] == 1500
    packaged = json.loads((project / "generated" / "seedream_client" / "openapi.json").read_text(encoding="utf-8"))
    assert packaged["components"]["schemas"]["ImageGenerationRequest"]["properties"]["prompt"]["maxLength"] == 1500
    assert {p: p.read_bytes() for p in real} == real  # the real openapi/ is untouched
    # Applied: the copy now matches the page, so a second run finds nothing.
    out = io.StringIO()
    assert main(args, out=out) == 0 and "apply: nothing to update" in out.getvalue()


def test_apply_leaves_a_page_without_a_verbatim_copy_for_review(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    before = (project / "openapi" / "companion" / "task-detail.yaml").read_bytes()
    fixture = _fixture("task-param-constraint-and-required-query", tmp_path)
    out = io.StringIO()
    assert (
        main(["--root", str(project), "--only", "task-detail", "--page", f"task-detail={fixture}", "--apply"], out=out)
        == 0
    )
    assert "review openapi/companion/ by hand" in out.getvalue() and "apply: nothing to update" in out.getvalue()
    assert (project / "openapi" / "companion" / "task-detail.yaml").read_bytes() == before


# -- the classifier on small documents: $ref resolution and the less common changes -------------------


def _doc(schema: dict[str, Any], *, params: list[Any] | None = None, **components: Any) -> dict[str, Any]:
    op: dict[str, Any] = {
        "parameters": params or [],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}},
    }
    return {"openapi": "3.1.0", "paths": {"/x": {"get": op}}, "components": components}


def _kinds(changes: list[Change]) -> set[tuple[str, str, str]]:
    return {(c.pointer, c.kind, c.classification) for c in changes}


def test_a_change_behind_a_shared_ref_is_reported_once_at_the_component() -> None:
    ref = {"$ref": "#/components/schemas/A"}
    old = _doc({"type": "object", "properties": {"a": ref, "b": ref}}, schemas={"A": {"type": "integer"}})
    new = _doc({"type": "object", "properties": {"a": ref, "b": ref}}, schemas={"A": {"type": "number"}})
    assert _kinds(diff_documents(old, new)) == {("/components/schemas/A/type", "type-changed", "breaking-readers")}


def test_parameters_behind_refs_are_compared_by_location_and_name() -> None:
    param = {"$ref": "#/components/parameters/P"}
    old = _doc({}, params=[param], parameters={"P": {"name": "q", "in": "query", "schema": {"enum": ["a", "b"]}}})
    new = _doc({}, params=[param], parameters={"P": {"name": "q", "in": "query", "schema": {"enum": ["a", "b", "c"]}}})
    assert _kinds(diff_documents(old, new)) == {
        ("/components/parameters/P/schema/enum", "enum-value-added", "compatible")
    }


def test_a_recursive_schema_is_compared_without_recursing_forever() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/N"}}}
    old = _doc({"$ref": "#/components/schemas/N"}, schemas={"N": node})
    new = _doc({"$ref": "#/components/schemas/N"}, schemas={"N": {**node, "required": ["child"]}})
    assert _kinds(diff_documents(old, new)) == {
        ("/components/schemas/N/required/child", "field-became-required", "compatible")
    }


@pytest.mark.parametrize(
    ("old", "new", "kind", "classification"),
    [
        ({"enum": ["a", "b"]}, {"enum": ["a"]}, "enum-value-removed", "compatible"),  # readers see fewer values
        ({"type": "integer"}, {"type": ["integer", "null"]}, "type-changed", "breaking-readers"),
        ({"type": "string", "maxLength": 5}, {"type": "string"}, "maxLength-removed", "breaking-readers"),
        (
            {"type": "string", "pattern": "^a"},
            {"type": "string", "pattern": "^b"},
            "pattern-changed",
            "breaking-readers",
        ),
    ],
)
def test_response_side_direction(old: dict[str, Any], new: dict[str, Any], kind: str, classification: str) -> None:
    changes = diff_documents(_doc(old), _doc(new))
    assert [(c.kind, c.classification) for c in changes] == [(kind, classification)]


def test_operations_statuses_and_media_types_added_or_removed() -> None:
    old = _doc({"type": "object"})
    new = _doc({"type": "object"})
    new["paths"]["/x"]["get"]["responses"]["503"] = {"description": "busy"}
    new["paths"]["/x"]["get"]["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    new["paths"]["/y"] = {"post": {"responses": {}}}
    assert _kinds(diff_documents(old, new)) == {
        ("/paths/~1x/get/responses/200/content/application~1json", "media-type-removed", "breaking-readers"),
        ("/paths/~1x/get/responses/200/content/text~1plain", "media-type-added", "breaking-readers"),
        ("/paths/~1x/get/responses/503", "response-added", "breaking-readers"),
        ("/paths/~1y/post", "operation-added", "compatible"),
    }


def test_an_unknown_keyword_is_reported_as_breaking_in_its_direction() -> None:
    changes = diff_documents(_doc({"type": "object"}), _doc({"type": "object", "dependentRequired": {"a": ["b"]}}))
    assert [(c.kind, c.classification) for c in changes] == [("dependentRequired-changed", "breaking-readers")]
