"""Layer 1: the spec itself.

The bundled spec is valid OpenAPI 3.1, every example in it validates against
its schema, the vendor YAML is still the seed's text, and every prose rule of
the vendor page is either formalised in the spec or implemented in the rule
module, with a case on each side of its boundary.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from PIL import Image

from seedream import _rules
from seedream._errors import RequestValidationError
from seedream._spec import load_spec, request_body_validator, validator_for
from seedream.conformance._data import read_repo_file

# Repository paths; an installed wheel carries copies (seedream.conformance._data).
SEED = "openapi/sources/seedream-5.0-lite-image-generate.md"
VENDOR = "openapi/vendor/seedream-5.0-lite-image-generate.yaml"
FACTS = "openapi/sources/spec-facts.md"


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _examples(node: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """(where, schema pointer, example) for every example in the spec."""
    if isinstance(node, Mapping):
        if "schema" in node and isinstance(node.get("schema"), Mapping):
            schema_ptr = f"{pointer}/schema"
            if "example" in node:
                yield f"{pointer}/example", schema_ptr, node["example"]
            for name, ex in (node.get("examples") or {}).items():
                yield f"{pointer}/examples/{name}", schema_ptr, ex["value"]
        if "example" in node and ("type" in node or "$ref" in node or "enum" in node):
            yield f"{pointer}/example", pointer, node["example"]
        for key, value in node.items():
            yield from _examples(value, f"{pointer}/{_escape(str(key))}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _examples(value, f"{pointer}/{i}")


EXAMPLES = list(_examples(load_spec()))


def test_vendor_yaml_is_still_the_seed_pages_text() -> None:
    text = read_repo_file(SEED)
    start = text.index(b"\n", text.index(b"````yaml ")) + 1
    assert read_repo_file(VENDOR) == text[start : text.index(b"\n````", start) + 1]


def test_bundled_spec_is_valid_openapi_3_1() -> None:
    from openapi_spec_validator import validate

    spec = {k: v for k, v in load_spec().items() if k != "x-generated"}
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_the_spec_has_examples_to_check() -> None:
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize(("where", "schema_ptr", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(where: str, schema_ptr: str, example: Any) -> None:
    errors = [e.message for e in validator_for(schema_ptr).iter_errors(example)]
    assert errors == [], where


def test_request_examples_also_satisfy_the_prose_rules() -> None:
    bodies = [ex for where, ptr, ex in EXAMPLES if "/requestBody/" in where and "/examples/" in where]
    assert len(bodies) == 2
    for body in bodies:
        _rules.validate_request(body)


# --- every prose rule: where it lives, and both sides of its boundary -------------------------------

BASE = {"model": "doubao-seedream-5.0-lite", "prompt": "a lake at dawn"}
URL = "https://cdn.example.com/ref.png"

# rule id -> (a body just inside the boundary, a body just outside it)
BODY_BOUNDARIES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "n-range": ({"n": 15}, {"n": 16}),
    "prompt-length": ({"prompt": "x" * 2000}, {"prompt": "x" * 2001}),
    "image-urls-count": ({"image_urls": [URL] * 14, "n": 1}, {"image_urls": [URL] * 15, "n": 1}),
    "callback-https": ({"callback_url": "https://hooks.example.com/x"}, {"callback_url": "http://hooks.example.com/x"}),
    "callback-length": (
        {"callback_url": "https://hooks.example.com/" + "a" * (2048 - 26)},
        {"callback_url": "https://hooks.example.com/" + "a" * (2049 - 26)},
    ),
    "size-shape": ({"size": "16:9"}, {"size": "16:10"}),
    "size-pixel-range": ({"size": "2560x1440"}, {"size": "2559x1440"}),
    "size-aspect-range": ({"size": "768x12288"}, {"size": "760x12288"}),
    "references-plus-n": ({"image_urls": [URL] * 5, "n": 10}, {"image_urls": [URL] * 5, "n": 11}),
    "callback-host-not-internal": (
        {"callback_url": "https://203.0.113.9.nip.example.com/cb"},
        {"callback_url": "https://192.168.1.20/cb"},
    ),
    # An astral character is a surrogate *pair* only in UTF-16; a lone surrogate is no Unicode text.
    "json-text": ({"prompt": "a lake 🌅"}, {"prompt": "a lake \ud83c"}),
}


def _png(width: int, height: int, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buf, format=fmt)
    return buf.getvalue()


# rule id -> (bytes just inside, bytes just outside)
IMAGE_BOUNDARIES: dict[str, tuple[Any, Any]] = {
    "reference-image-size": (
        lambda: _png(32, 32) + b"\0" * (10 * 1024 * 1024 - len(_png(32, 32))),
        lambda: _png(32, 32) + b"\0" * (10 * 1024 * 1024 + 1 - len(_png(32, 32))),
    ),
    "reference-image-format": (lambda: _encoded("GIF"), lambda: _encoded("PPM")),
    "reference-image-aspect": (lambda: _png(16 * 20, 20), lambda: _png(16 * 20 + 1, 20)),
    "reference-image-min-side": (lambda: _png(15, 15), lambda: _png(14, 15)),
    "reference-image-max-pixels": (lambda: _png(6000, 6000, "1"), lambda: _png(6000, 6001, "1")),
}


def test_every_rule_is_listed_once_with_where_it_lives() -> None:
    ids = [rule.id for rule in _rules.RULES]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(BODY_BOUNDARIES) | set(IMAGE_BOUNDARIES)
    for rule in _rules.RULES:
        assert rule.citation and rule.text
        assert rule.where == "rules" or rule.where.startswith("spec:/")


def _spec_rule_ids(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, Mapping):
        found.update(node.get("x-seedream-rules", []))
        for value in node.values():
            found |= _spec_rule_ids(value)
    elif isinstance(node, list):
        for value in node:
            found |= _spec_rule_ids(value)
    return found


def test_rules_the_spec_cannot_express_are_named_in_it_and_implemented_here() -> None:
    in_module = {rule.id for rule in _rules.RULES if rule.where == "rules"}
    assert _spec_rule_ids(load_spec()) == in_module


@pytest.mark.parametrize("rule", [r for r in _rules.RULES if r.where != "rules"], ids=lambda r: r.id)
def test_rules_formalised_in_the_spec_are_really_there(rule: _rules.Rule) -> None:
    pointer, keywords = rule.where.removeprefix("spec:").split(" ")
    node: Any = load_spec()
    for part in pointer.strip("/").split("/"):
        node = node[part]
    for keyword in keywords.split(","):
        assert keyword in node, f"{rule.id}: {keyword} missing at {pointer}"


def test_the_ratio_list_is_the_one_in_the_size_pattern() -> None:
    pattern = load_spec()["components"]["schemas"]["ImageGenerationRequest"]["properties"]["size"]["pattern"]
    alternatives = re.match(r"\^\((.*)\)\$", pattern).group(1).split("|")  # type: ignore[union-attr]
    assert tuple(alternatives[: len(_rules.RATIOS)]) == _rules.RATIOS


def _accepted(body: dict[str, Any]) -> tuple[bool, bool, RequestValidationError | None]:
    schema_ok = not list(request_body_validator().iter_errors(body))
    try:
        _rules.validate_request(body)
    except RequestValidationError as exc:
        return schema_ok, False, exc
    return schema_ok, True, None


@pytest.mark.parametrize("rule_id", sorted(BODY_BOUNDARIES))
def test_body_rule_boundary_both_sides(rule_id: str) -> None:
    rule = next(r for r in _rules.RULES if r.id == rule_id)
    inside, outside = ({**BASE, **patch} for patch in BODY_BOUNDARIES[rule_id])
    assert _accepted(inside)[:2] == (True, True), f"{rule_id} rejected {inside}"
    schema_ok, client_ok, error = _accepted(outside)
    assert not client_ok and error is not None
    assert rule.field == "*" or error.field.split("[")[0] == rule.field
    if rule.where == "rules":
        # JSON Schema cannot see it; the rule module names it
        assert schema_ok and error.rule_id == rule_id
    else:
        assert not schema_ok


@pytest.mark.parametrize("rule_id", sorted(IMAGE_BOUNDARIES))
def test_reference_image_rule_boundary_both_sides(rule_id: str) -> None:
    inside, outside = (make() for make in IMAGE_BOUNDARIES[rule_id])
    assert _rules.check_reference_image(inside) == []
    found = {v.rule_id for v in _rules.check_reference_image(outside)}
    assert rule_id in found


def test_cancelled_is_a_known_task_status() -> None:
    assert "cancelled" in load_spec()["components"]["schemas"]["TaskStatus"]["enum"]


def test_every_task_failure_code_of_the_vendor_table_is_known() -> None:
    facts = read_repo_file(FACTS).decode("utf-8")
    table = facts[facts.index("## Task failure codes") : facts.index("## Things the seed page")]
    codes = set(re.findall(r"`([a-z_]+)`", table)) - {"error", "code"}
    assert codes == set(_rules.TASK_FAILURE_CODES)
    fixable = table[table.index("Fixable") : table.index("Server side")]
    for code in codes:
        assert _rules.TASK_FAILURE_CODES[code] is (code not in fixable), code


def test_the_admission_codes_of_a_refused_create_are_the_facts_list() -> None:
    facts = read_repo_file(FACTS).decode("utf-8")
    section = facts[facts.index("**Which failures prove nothing was created.**") : facts.index("**Request id**")]
    assert set(re.findall(r"`([a-z_]+)`", section)) - {"error", "code"} == _rules.ADMISSION_REFUSAL_CODES


def test_the_batch_query_takes_at_most_the_facts_50_ids() -> None:
    facts = read_repo_file(FACTS).decode("utf-8")
    assert "`POST /v1/tasks/batch`" in facts and "at most 50 ids" in facts
    schemas = load_spec()["components"]["schemas"]
    assert schemas["TaskBatchRequest"]["properties"]["task_ids"]["maxItems"] == 50


def test_the_error_code_may_be_an_integer_as_the_credits_page_shows() -> None:
    spec = load_spec()
    example = spec["paths"]["/v1/credits"]["get"]["responses"]["400"]["content"]["application/json"]["example"]
    assert example["error"]["code"] == 400
    schema_ptr = "/paths/~1v1~1credits/get/responses/400/content/application~1json/schema"
    assert list(validator_for(schema_ptr).iter_errors(example)) == []
    assert list(validator_for(schema_ptr).iter_errors({"error": {"code": 1.5}})) != []  # but not any type


def test_every_documented_status_of_every_operation_has_an_example() -> None:
    missing = [
        f"{method.upper()} {path} {status}"
        for path, item in load_spec()["paths"].items()
        for method, op in item.items()
        for status, response in op["responses"].items()
        if status != "200" or method != "post" or path != "/v1/images/generations"  # the vendor gives no 200 example
        if "content" in response and "example" not in response["content"]["application/json"]
    ]
    assert missing == []
