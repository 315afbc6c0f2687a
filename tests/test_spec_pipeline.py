"""The spec pipeline: one self-contained bundle, deterministic regeneration, drift check.

(That the vendor file is the seed's text byte for byte, and that the bundle is
valid OpenAPI 3.1 with valid examples, is proven in src/seedream/conformance/test_spec_layer.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "openapi" / "bundled" / "seedream.openapi.yaml"
GENERATED = ROOT / "generated" / "seedream_client"

sys.path.insert(0, str(ROOT / "scripts"))
import bundle  # noqa: E402
import regenerate  # noqa: E402
import unasync  # noqa: E402


def test_bundled_spec_is_self_contained() -> None:
    doc = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert refs and all(r.startswith("#/components/") for r in refs), refs


def test_bundled_spec_carries_a_generated_header_and_matches_the_packaged_copy() -> None:
    text = BUNDLED.read_text(encoding="utf-8")
    assert text.startswith("# GENERATED FILE - DO NOT EDIT.")
    packaged = json.loads((GENERATED / "openapi.json").read_text(encoding="utf-8"))
    assert packaged.pop("x-generated").startswith("GENERATED FILE - DO NOT EDIT")
    assert packaged == yaml.safe_load(text)


def test_bundle_offers_every_operation_sharing_the_vendor_shapes() -> None:
    doc = bundle.bundle()
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    assert ops == {"createImageGeneration", "getTaskDetail", "batchQueryTasks", "listTasks", "getCredits"}
    batch = doc["paths"]["/v1/tasks/batch"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert doc["components"]["schemas"][batch["$ref"].rsplit("/", 1)[1]]["properties"]["data"]["items"] == {
        "$ref": "#/components/schemas/TaskDetailResponse"
    }
    for name in ("page", "page_size", "status", "type", "model"):
        assert name in {p["name"] for p in doc["paths"]["/v1/tasks"]["get"]["parameters"]}
    task = doc["components"]["schemas"]["TaskDetailResponse"]["properties"]
    assert task["task_info"] == {"$ref": "#/components/schemas/TaskInfo"}
    assert task["status"] == {"$ref": "#/components/schemas/TaskStatus"}
    gen = doc["components"]["schemas"]["ImageGenerationResponse"]["properties"]
    assert gen["status"] == task["status"]
    assert "cancelled" in doc["components"]["schemas"]["TaskStatus"]["enum"]


def test_idempotency_and_error_code_types_are_in_the_bundle_and_marked_assumed() -> None:
    doc = bundle.bundle()
    create = doc["paths"]["/v1/images/generations"]["post"]
    (key,) = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is False and key["x-assumed"] is True
    assert create["responses"]["200"]["headers"]["idempotency-replayed"]["x-assumed"] is True
    assert create["responses"]["409"]["x-assumed"] is True
    code = doc["components"]["schemas"]["ErrorResponse"]["properties"]["error"]["properties"]["code"]
    assert code["type"] == ["string", "integer"]
    # Operations the vendor page does not define are marked assumed as a whole, except the published one.
    assert doc["paths"]["/v1/tasks/batch"]["post"]["x-assumed"] is True
    assert doc["paths"]["/v1/tasks"]["get"]["x-assumed"] is True
    assert "x-assumed" not in doc["paths"]["/v1/credits"]["get"]


def test_every_companion_file_is_merged() -> None:
    names = sorted(p.name for p in bundle.COMPANIONS.glob("*.yaml"))
    assert names == ["account-and-task-list.yaml", "task-detail.yaml"]
    merged = bundle.bundle()["paths"]
    for name in names:
        assert set(yaml.safe_load((bundle.COMPANIONS / name).read_text(encoding="utf-8"))["paths"]) <= set(merged)


def test_overlay_actions_each_cite_a_sentence_and_all_apply() -> None:
    overlay = yaml.safe_load((ROOT / "openapi" / "overlay.yaml").read_text(encoding="utf-8"))
    assert overlay["overlay"].startswith("1.")
    assert all(len(a["description"]) > 20 for a in overlay["actions"])


def test_overlay_target_that_matches_nothing_is_an_error() -> None:
    with pytest.raises(bundle.BundleError, match="matches nothing"):
        bundle.apply_overlay(
            {"a": {}},
            {"overlay": "1.0.0", "actions": [{"target": "$.a.missing", "description": "x", "update": {}}]},
        )


def test_reference_into_an_inline_schema_is_refused() -> None:
    doc = {
        "components": {"schemas": {"A": {"properties": {"p": {"type": "string"}}}}},
        "x": {"$ref": "#/components/schemas/A/properties/p"},
    }
    with pytest.raises(bundle.BundleError, match="inline schema"):
        bundle.collapse_refs(doc)


def test_every_generated_file_says_it_is_generated() -> None:
    files = [p for p in GENERATED.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > 20
    for path in files:
        head = path.read_text(encoding="utf-8")[:200]
        assert "GENERATED FILE - DO NOT EDIT" in head, path


def test_regeneration_is_deterministic(tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        runs.append(regenerate.generate_tree(tmp_path / name))
    (text_a, first), (text_b, second) = runs
    assert text_a == text_b
    assert regenerate._diff(first, second) == []


def _copy_project(dest: Path) -> Path:
    for part in ("openapi", "scripts", "generated", "src/seedream/_async", "src/seedream/_sync"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / "scripts" / "regenerate.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=project,
    )


def test_drift_check_passes_on_the_committed_tree(tmp_path: Path) -> None:
    result = _check(_copy_project(tmp_path))
    assert result.returncode == 0, result.stderr


def test_drift_check_fails_on_a_hand_edit_under_generated_and_names_the_file(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    target = project / "generated" / "seedream_client" / "models" / "task_info.py"
    target.write_text(target.read_text(encoding="utf-8") + "\n# tweak\n", encoding="utf-8")
    (project / "generated" / "seedream_client" / "extra.py").write_text("x = 1\n", encoding="utf-8")
    result = _check(project)
    assert result.returncode == 1
    assert "generated/seedream_client/models/task_info.py (differs)" in result.stderr
    assert "generated/seedream_client/extra.py (not generated" in result.stderr


def test_drift_check_fails_on_a_hand_edit_of_the_generated_sync_client_and_names_the_file(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    target = project / "src" / "seedream" / "_sync" / "_retry.py"
    target.write_text(target.read_text(encoding="utf-8").replace("attempt += 1", "attempt += 2"), encoding="utf-8")
    (project / "src" / "seedream" / "_sync" / "_stray.py").write_text("x = 1\n", encoding="utf-8")
    result = _check(project)
    assert result.returncode == 1
    assert "src/seedream/_sync/_retry.py (differs from the transform of _async/_retry.py)" in result.stderr
    assert "src/seedream/_sync/_stray.py (no async source" in result.stderr


def test_drift_check_fails_when_the_async_source_changed_without_regenerating(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    source = project / "src" / "seedream" / "_async" / "_answers.py"
    source.write_text(source.read_text(encoding="utf-8").replace("piece: int = 64 * 1024", "piece: int = 1024"))
    result = _check(project)
    assert result.returncode == 1
    assert "src/seedream/_sync/_answers.py (differs" in result.stderr


def test_the_committed_sync_client_is_the_transform_of_the_async_source() -> None:
    files = unasync.expected()
    assert set(files) == {p.name for p in unasync.ASYNC_DIR.glob("*.py")} - unasync.HAND_WRITTEN
    assert unasync.problems(files) == []
    for name, text in files.items():
        assert text.startswith("# GENERATED FILE - DO NOT EDIT. scripts/unasync.py"), name
        assert not re.search(r"\basync (def|for|with)\b|\bawait ", text), name


def test_unasync_refuses_a_substitution_that_matches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unasync, "SUBS", [*unasync.SUBS, ("never_written_anywhere", "x")])
    monkeypatch.setattr(unasync, "_COMPILED", [*unasync._COMPILED, (unasync.re.compile("never_written_anywhere"), "x")])
    with pytest.raises(SystemExit, match="never_written_anywhere"):
        unasync.expected()


def test_drift_check_fails_when_a_source_changed_without_regenerating(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    overlay = project / "openapi" / "overlay.yaml"
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("maximum: 15", "maximum: 14"), encoding="utf-8")
    result = _check(project)
    assert result.returncode == 1
    assert "openapi/bundled/seedream.openapi.yaml (differs)" in result.stderr
    assert "generated/seedream_client/models/image_generation_request.py (differs)" in result.stderr


def test_generated_client_offers_both_operations_with_typed_models() -> None:
    from seedream_client import AuthenticatedClient
    from seedream_client.api.image_generation import create_image_generation
    from seedream_client.api.task_management import get_task_detail
    from seedream_client.models import (
        ImageGenerationRequest,
        ImageGenerationRequestQuality,
        ImageGenerationResponse,
        TaskDetailResponse,
        TaskStatus,
    )

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(
                200, json={"id": "task-unified-1-a", "status": "pending", "object": "image.generation.task"}
            )
        return httpx.Response(
            200, json={"id": "task-unified-1-a", "status": "completed", "progress": 100, "results": ["https://x/1.png"]}
        )

    client = AuthenticatedClient(base_url="https://api.evolink.ai", token="k")
    client.set_httpx_client(httpx.Client(base_url="https://api.evolink.ai", transport=httpx.MockTransport(handler)))
    body = ImageGenerationRequest(prompt="a lake", quality=ImageGenerationRequestQuality.TWO_K, size="16:9")
    created = create_image_generation.sync(client=client, body=body)
    assert isinstance(created, ImageGenerationResponse) and created.status is TaskStatus.PENDING
    task = get_task_detail.sync("task-unified-1-a", client=client)
    assert isinstance(task, TaskDetailResponse) and task.results == ["https://x/1.png"]
    # the auth header is sent even on an httpx client the caller supplied
    assert all(r.headers["authorization"] == "Bearer k" for r in seen)
    assert json.loads(seen[0].content)["quality"] == "2K"


def test_friendly_enum_names_and_open_enums() -> None:
    from seedream_client.models import ImageGenerationRequestQuality, TaskStatus, UsageBillingRule

    assert ImageGenerationRequestQuality.TWO_K == "2K" and ImageGenerationRequestQuality.THREE_K == "3K"
    assert TaskStatus("cancelled") is TaskStatus.CANCELLED
    odd = UsageBillingRule("per_image")
    assert odd == "per_image" and not odd.is_known and UsageBillingRule.PER_CALL.is_known


def test_regeneration_fails_on_a_rule_id_without_an_implementation() -> None:
    doc = bundle.bundle()
    doc["components"]["schemas"]["ImageGenerationRequest"]["x-seedream-rules"].append("no-such-rule")
    with pytest.raises(SystemExit, match="no-such-rule"):
        regenerate._check_rule_ids(doc)
    regenerate._check_rule_ids(bundle.bundle())  # the real spec: every id implemented


def test_the_rule_package_imports_nothing_but_the_standard_library() -> None:
    import ast

    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    package = Path(__file__).resolve().parents[1] / "src" / "seedream_rules"
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in stdlib, f"{path.name} imports {name}"
