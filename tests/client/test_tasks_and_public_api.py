"""A failed task is its own error; the public names; the generated *_detailed functions stay usable."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
import pytest
from seedream_client import AuthenticatedClient
from seedream_client.api.image_generation import create_image_generation
from seedream_client.api.task_management import get_task_detail
from seedream_client.models import ImageGenerationRequest, TaskDetailResponse

import seedream
from seedream import (
    SeedreamAPI,
    SeedreamError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    raise_for_task_status,
)
from seedream._rules import TASK_FAILURE_CODES

from .helpers import SENTINEL_KEY, TASK_BODY, Recorder, json_response


def _task(api_reply: dict[str, object]) -> TaskDetailResponse:
    with SeedreamAPI(SENTINEL_KEY, transport=Recorder(json_response(200, api_reply)).transport) as api:
        return api.get_task("task-unified-1")


@pytest.mark.parametrize("code", sorted(TASK_FAILURE_CODES))
def test_a_failed_task_raises_task_failed_with_code_message_and_the_vendors_retry_verdict(code: str) -> None:
    task = _task({"id": "task-unified-1", "status": "failed", "error": {"code": code, "message": f"it was {code}"}})
    assert task.status == "failed"  # get_task returns it; raising is a separate, explicit step
    with pytest.raises(TaskFailedError) as caught:
        raise_for_task_status(task)
    error = caught.value
    assert error.task_id == "task-unified-1"
    assert error.code == code and error.error_message == f"it was {code}"
    assert error.retryable is TASK_FAILURE_CODES[code]
    assert error.task is task
    assert code in str(error) and ("retry later" if error.retryable else "fix the request") in str(error)
    assert isinstance(error, TaskError) and isinstance(error, SeedreamError)


def test_a_failed_task_with_an_unknown_or_missing_code_counts_as_retryable() -> None:
    for error in ({"code": "brand_new_code"}, {}, None):
        body: dict[str, object] = {"id": "task-unified-1", "status": "failed"}
        if error is not None:
            body["error"] = error
        with pytest.raises(TaskFailedError) as caught:
            raise_for_task_status(_task(body))
        assert caught.value.retryable is True


def test_a_cancelled_task_raises_task_cancelled_and_others_pass_through() -> None:
    with pytest.raises(TaskCancelledError) as caught:
        raise_for_task_status(_task({"id": "task-unified-1", "status": "cancelled"}))
    assert caught.value.task_id == "task-unified-1"
    for status in ("pending", "processing", "completed", "paused"):
        task = _task({**TASK_BODY, "status": status})
        assert raise_for_task_status(task) is task


# -- public names ----------------------------------------------------------------------------------


def test_the_package_exports_the_clients_preflight_and_every_error_class() -> None:
    errors_module = ast.parse(Path(seedream._errors.__file__).read_text(encoding="utf-8"))
    classes = {node.name for node in errors_module.body if isinstance(node, ast.ClassDef)}
    assert classes <= set(seedream.__all__)
    for name in (
        "SeedreamAPI",
        "AsyncSeedreamAPI",
        "preflight_reference_image",
        "preflight_reference_images",
        "ReferenceImageInfo",
        "raise_for_task_status",
        "__version__",
    ):
        assert name in seedream.__all__
    for name in seedream.__all__:
        assert getattr(seedream, name) is not None
    for name in classes:
        assert issubclass(getattr(seedream, name), SeedreamError)


def test_every_error_class_is_drawn_in_the_tree_of_the_module_docstring() -> None:
    doc = seedream._errors.__doc__ or ""
    for name in seedream.__all__:
        obj = getattr(seedream, name)
        if isinstance(obj, type) and issubclass(obj, SeedreamError):
            assert f" {name} " in doc or doc.endswith(name) or f"{name}\n" in doc, name


# -- the generated low-level layer stays available ------------------------------------------------------


def test_the_generated_detailed_functions_give_raw_responses_even_for_520() -> None:
    replies = iter([httpx.Response(520, content=b"odd"), json_response(200, TASK_BODY)])
    recorder = Recorder(lambda request: next(replies))
    client = AuthenticatedClient(base_url="https://api.evolink.ai", token=SENTINEL_KEY)
    client.set_httpx_client(httpx.Client(base_url="https://api.evolink.ai", transport=recorder.transport))
    with client:
        raw = create_image_generation.sync_detailed(client=client, body=ImageGenerationRequest(prompt="a lake"))
        assert raw.status_code == 520 and raw.content == b"odd" and raw.parsed is None
        task = get_task_detail.sync_detailed("task-unified-1", client=client)
        assert task.status_code == 200 and json.loads(task.content) == TASK_BODY
    assert all(r.headers["authorization"] == f"Bearer {SENTINEL_KEY}" for r in recorder.requests)
