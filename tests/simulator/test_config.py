"""SimulatorConfig: bad values are refused naming the field; keys never show in repr; markers parse strictly."""

from __future__ import annotations

from typing import Any

import pytest

from seedream.simulator import Markers, SimulatorConfig, parse_markers


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_scale", 0),
        ("time_scale", float("inf")),
        ("link_lifetime", -1),
        ("fault_429", 1.5),
        ("fault_5xx", -0.1),
        ("fault_drop", True),
        ("task_failure_rate", "half"),
        ("credits", -5),
        ("rate_limit", 0),
        ("seed", 1.5),
        ("outbound", "internet"),
        ("api_keys", ("",)),
        ("api_keys", ("two words",)),
        ("public_base_url", "ftp://x"),
        ("default_output_format", "webp"),
        ("max_body_bytes", 0),
    ],
)
def test_bad_value_raises_value_error_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        SimulatorConfig(**{field: value})


def test_repr_never_shows_keys() -> None:
    config = SimulatorConfig(api_keys=("sk-secret-1",), no_access_keys=("sk-secret-2",))
    assert "sk-secret" not in repr(config) and "sk-secret" not in str(config)


def test_a_single_key_string_is_taken_as_one_key() -> None:
    assert SimulatorConfig(api_keys="sk-one").api_keys == ("sk-one",)  # type: ignore[arg-type]


def test_for_tests_never_reaches_beyond_loopback() -> None:
    config = SimulatorConfig.for_tests(time_scale=0.5)
    assert (config.outbound, config.allow_loopback, config.api_keys, config.time_scale) == (
        "loopback",
        True,
        ("sk-test",),
        0.5,
    )
    assert SimulatorConfig().outbound == "public" and SimulatorConfig().allow_loopback is False


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("plain prompt", Markers()),
        ("x [sim:fail=content_policy_violation] y", Markers(fail="content_policy_violation")),
        ("[SIM:Duration=2.5][sim:images=3]", Markers(duration=2.5, images=3)),
        ("[sim:duration=-1][sim:duration=nan][sim:images=0][sim:fail=Bad Code]", Markers()),
        ("[sim:unknown=1][sim:images=²]", Markers()),
    ],
)
def test_prompt_markers_parse_and_ignore_unusable_values(prompt: str, expected: Markers) -> None:
    assert parse_markers(prompt) == expected
