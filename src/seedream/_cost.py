"""What a request should cost, what the account has, and the check that refuses a submission neither covers.

The price is *not* in the API: the figures below are EvoLink's product page for Seedream 5.0 Lite as copied
into this project (``openapi/sources/spec-facts.md``, "Prices and retention", 2026-12-01): $0.032 = 2.2 credits
per image, 0.04 credits per web search (a request may search more than once, so a web-search request's
estimate is a lower bound). Each request pre-charges ``n`` images. Everything computed here is an
*estimate*, labelled so wherever it is shown; the vendor's bill is the only truth. :class:`Prices` makes the
figures configurable (``Seedream(prices=...)``, ``seedream generate --credits-per-image``).

:class:`Balance` is ``GET /v1/credits`` read as numbers: what the account (``user``) and this key (``token``,
unless ``unlimited_credits``) have left; :attr:`Balance.available` is the smaller of the two.
:func:`check_budget` raises :class:`RequestValidationError` (nothing sent, nothing written) when the estimate
is above the caller's cap (``max_credits``) or the available balance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seedream_client.models import CreditsResponse
from seedream_client.types import Unset

from ._errors import RequestValidationError

__all__ = [
    "DEFAULT_CREDITS_PER_IMAGE",
    "PRICE_SOURCE",
    "WEB_SEARCH_CREDITS",
    "Balance",
    "Estimate",
    "Prices",
    "check_budget",
    "check_max_credits",
    "estimate_request",
]

#: Credits per generated image: EvoLink's product page for Seedream 5.0 Lite ($0.032 = 2.2 credits per image).
DEFAULT_CREDITS_PER_IMAGE = 2.2
#: Credits per web search (same page); a request may search more than once, so this is a lower bound per request.
WEB_SEARCH_CREDITS = 0.04
#: Where the default figures come from, and when they were copied (spec-facts "Prices and retention": the
#: vendor's product page for Seedream 5.0 Lite).
PRICE_SOURCE = "EvoLink's published price of 2026-12-01"


def _non_negative(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise RequestValidationError(name, value, "must be a finite number >= 0 (credits)")
    return float(value)


def check_max_credits(value: object, name: str = "max_credits") -> float | None:
    """``value`` as a cap in credits (None: no cap); :class:`RequestValidationError` for anything else."""
    return None if value is None else _non_negative(name, value)


@dataclass(frozen=True)
class Prices:
    """The figures an estimate uses; defaults: the vendor's published prices (see :data:`PRICE_SOURCE`)."""

    per_image: float = DEFAULT_CREDITS_PER_IMAGE
    web_search: float = WEB_SEARCH_CREDITS
    source: str = PRICE_SOURCE

    def __post_init__(self) -> None:
        _non_negative("per_image", self.per_image)
        _non_negative("web_search", self.web_search)

    def estimate(self, images: int, web_search: bool = False) -> Estimate:
        """``images`` pre-charged at :attr:`per_image`, plus one search when ``web_search`` (at least)."""
        credits = images * self.per_image + (self.web_search if web_search else 0.0)
        return Estimate(images=images, web_search=web_search, credits=round(credits, 6), prices=self)


@dataclass(frozen=True)
class Estimate:
    """What one request (or several) should pre-charge; an estimate, never the vendor's word."""

    images: int
    web_search: bool
    credits: float
    prices: Prices = field(default_factory=Prices)

    def __str__(self) -> str:
        search = f" + web search ≥{self.prices.web_search:g}" if self.web_search else ""
        lower = "≥" if self.web_search else ""
        return (
            f"estimated {lower}{self.credits:g} credits ({self.images} image(s) × {self.prices.per_image:g}{search}, "
            f"{self.prices.source}; not the vendor's bill)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": True,
            "credits": self.credits,
            "images": self.images,
            "web_search": self.web_search,
            "credits_per_image": self.prices.per_image,
            "web_search_credits": self.prices.web_search,
            "source": self.prices.source,
        }


def _images(body: Mapping[str, Any]) -> int:
    n = body.get("n", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) else 1


def _searches(body: Mapping[str, Any]) -> bool:
    params = body.get("model_params")
    tools = params.get("tools") if isinstance(params, Mapping) else None
    return isinstance(tools, list) and any(isinstance(t, Mapping) and t.get("type") == "web_search" for t in tools)


def estimate_request(body: Mapping[str, Any], prices: Prices | None = None) -> Estimate:
    """The estimate for one validated wire body (``n`` images pre-charged, web search if its tools ask for it)."""
    return (prices or Prices()).estimate(_images(body), _searches(body))


def _number(value: object) -> float | None:
    if isinstance(value, (Unset, bool)) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Balance:
    """``GET /v1/credits`` as numbers (None where the answer left a figure out); ``answer`` is the parsed body."""

    user_remaining: float | None
    user_used: float | None
    token_remaining: float | None
    token_used: float | None
    token_unlimited: bool | None
    answer: CreditsResponse | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_answer(cls, answer: CreditsResponse) -> Balance:
        data = None if isinstance(answer.data, Unset) else answer.data
        user = None if data is None or isinstance(data.user, Unset) else data.user
        token = None if data is None or isinstance(data.token, Unset) else data.token
        unlimited = None if token is None else token.unlimited_credits
        return cls(
            user_remaining=None if user is None else _number(user.remaining_credits),
            user_used=None if user is None else _number(user.used_credits),
            token_remaining=None if token is None else _number(token.remaining_credits),
            token_used=None if token is None else _number(token.used_credits),
            token_unlimited=unlimited if isinstance(unlimited, bool) else None,
            answer=answer,
        )

    @property
    def available(self) -> float | None:
        """What a submission can spend: the account's balance, capped by this key's own limit when it has one.

        None when the answer does not say (no account figure, or a limited key without its figure).
        """
        if self.user_remaining is None:
            return None
        if self.token_unlimited is True:
            return self.user_remaining
        if self.token_remaining is None:
            return None if self.token_unlimited is False else self.user_remaining
        return min(self.user_remaining, self.token_remaining)

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "user": {"remaining_credits": self.user_remaining, "used_credits": self.user_used},
            "token": {
                "remaining_credits": self.token_remaining,
                "used_credits": self.token_used,
                "unlimited_credits": self.token_unlimited,
            },
        }


def check_budget(estimate: Estimate, *, max_credits: float | None, balance: Balance | None = None) -> None:
    """Refuse (:class:`RequestValidationError`) an estimate above the cap, or above the balance when given.

    A balance that does not say what is available refuses nothing by itself (the cap still applies).
    """
    if max_credits is not None and estimate.credits > max_credits:
        raise RequestValidationError(
            "max_credits", max_credits, f"the request is {estimate}: above the cap; nothing was sent"
        )
    available = None if balance is None else balance.available
    if available is not None and estimate.credits > available:
        raise RequestValidationError(
            "balance",
            available,
            f"the request is {estimate}: above the {available:g} credits available (GET /v1/credits); nothing was sent",
        )
