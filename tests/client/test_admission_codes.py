"""Which refusals of a generation POST prove nothing was created, and integer error codes kept."""

from __future__ import annotations

import httpx
import pytest

import seedream_rules
from seedream import _rules
from seedream._errors import error_for_status

FACTS_CODES = [
    "insufficient_quota",
    "insufficient_user_quota",
    "quota_not_enough",
    "account_balance_insufficient",
    "insufficient_token_quota",
    "key_quota_exhausted",
    "token_daily_quota_exceeded",
    "key_daily_quota_exhausted",
    "key_disabled",
    "key_expired",
    "key_model_not_allowed",
]


def test_the_admission_codes_are_exactly_the_facts_list() -> None:
    assert frozenset(FACTS_CODES) == seedream_rules.ADMISSION_REFUSAL_CODES
    assert _rules.proves_not_created is seedream_rules.proves_not_created


@pytest.mark.parametrize("code", FACTS_CODES)
def test_each_admission_code_on_402_proves_nothing_was_created(code: str) -> None:
    assert seedream_rules.proves_not_created(402, code)
    assert seedream_rules.proves_not_created(402, code.upper())  # compared as the vendor's CLI does


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_request"),  # outcome unknown per the facts, whatever it suggests
        (401, "unauthorized"),
        (403, "model_access_denied"),
        (409, "idempotency_conflict"),
        (429, "rate_limit_exceeded"),
        (500, "insufficient_quota"),  # a 5xx proves nothing, whatever code it carries
        (502, None),
        (402, None),
        (402, 402),  # an integer code is kept but is no admission code
        (400, 400),
        (True, "insufficient_quota"),
    ],
)
def test_every_other_failure_leaves_the_outcome_unknown(status: int, code: object) -> None:
    assert not seedream_rules.proves_not_created(status, code)


def _response(status: int, error: object) -> httpx.Response:
    request = httpx.Request("GET", "https://api.example/v1/credits")
    return httpx.Response(status, json={"error": error}, request=request)


@pytest.mark.parametrize(("sent", "kept"), [(400, 400), ("bad_thing", "bad_thing"), (True, None), (1.5, None)])
def test_error_code_is_kept_with_its_json_type_or_dropped_when_not_a_code(sent: object, kept: str | int | None) -> None:
    error = error_for_status(_response(400, {"code": sent, "message": "Bad request", "type": "invalid_request_error"}))
    assert error.code == kept and type(error.code) is type(kept)
    assert error.message == "Bad request"
