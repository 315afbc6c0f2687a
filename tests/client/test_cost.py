"""The cost estimate, the balance as numbers and the budget check (``seedream._cost``)."""

from __future__ import annotations

import pytest
from seedream_client.models import CreditsResponse

from seedream import Balance, Prices, RequestValidationError, SeedreamAPI
from seedream._cost import DEFAULT_CREDITS_PER_IMAGE, WEB_SEARCH_CREDITS, check_budget, estimate_request


def test_the_defaults_are_the_published_figures_with_their_source() -> None:
    prices = Prices()
    assert (prices.per_image, prices.web_search) == (DEFAULT_CREDITS_PER_IMAGE, WEB_SEARCH_CREDITS) == (2.2, 0.04)
    assert "2026-12-01" in prices.source


@pytest.mark.parametrize(
    ("params", "credits", "images"),
    [({}, 2.2, 1), ({"n": 4}, 8.8, 4), ({"n": 2, "web_search": True}, 4.44, 2), ({"n": 15}, 33.0, 15)],
)
def test_an_estimate_is_images_times_the_price_plus_web_search(
    params: dict[str, object], credits: float, images: int
) -> None:
    with SeedreamAPI("sk-test-cost") as api:
        estimate = estimate_request(api.build_body("a fox", **params))  # type: ignore[arg-type]
    assert estimate.credits == pytest.approx(credits) and estimate.images == images


def test_an_estimate_is_always_labelled_one() -> None:
    estimate = Prices(per_image=1.5, web_search=0.1, source="our contract").estimate(2, web_search=True)
    text = str(estimate)
    assert estimate.credits == pytest.approx(3.1)
    assert "estimated ≥3.1 credits" in text and "our contract" in text and "not the vendor's bill" in text
    assert estimate.to_dict()["estimate"] is True


@pytest.mark.parametrize("bad", [-0.1, float("inf"), float("nan"), "2.2", True])
def test_a_bad_price_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(RequestValidationError) as caught:
        Prices(per_image=bad)  # type: ignore[arg-type]
    assert caught.value.field == "per_image"


def _balance(user: float | None, token: float | None, unlimited: bool | None) -> Balance:
    data: dict[str, object] = {"user": {} if user is None else {"remaining_credits": user, "used_credits": 1}}
    token_body: dict[str, object] = {"used_credits": 0}
    if token is not None:
        token_body["remaining_credits"] = token
    if unlimited is not None:
        token_body["unlimited_credits"] = unlimited
    data["token"] = token_body
    return Balance.from_answer(CreditsResponse.from_dict({"success": True, "message": "", "data": data}))


@pytest.mark.parametrize(
    ("user", "token", "unlimited", "available"),
    [
        (100.0, 0.0, True, 100.0),  # a key without a limit of its own: the account's balance
        (100.0, 30.0, False, 30.0),  # a key's own limit below the account's
        (20.0, 30.0, False, 20.0),
        (100.0, None, False, None),  # a limited key that does not say how much is left: unknown
        (None, 30.0, False, None),  # no account figure: unknown
    ],
)
def test_available_is_the_account_capped_by_the_key_s_own_limit(
    user: float | None, token: float | None, unlimited: bool | None, available: float | None
) -> None:
    assert _balance(user, token, unlimited).available == available


def test_the_budget_check_names_the_cap_or_the_balance_and_the_estimate() -> None:
    estimate = Prices().estimate(3)
    check_budget(estimate, max_credits=6.6, balance=_balance(6.6, 0, True))  # exactly covered: accepted
    with pytest.raises(RequestValidationError) as caught:
        check_budget(estimate, max_credits=6.0)
    assert caught.value.field == "max_credits" and caught.value.value == 6.0 and "6.6 credits" in caught.value.rule
    with pytest.raises(RequestValidationError) as caught:
        check_budget(estimate, max_credits=None, balance=_balance(5.0, 0, True))
    assert caught.value.field == "balance" and "above the 5 credits available" in caught.value.rule
    check_budget(estimate, max_credits=None, balance=_balance(None, None, None))  # unknown balance refuses nothing
