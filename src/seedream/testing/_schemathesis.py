"""schemathesis, set up once for this API: the bundled spec, auth, and the rules the spec cannot express.

Used by the simulator's tests and by the conformance suite. Needs the ``dev``
extra (schemathesis); importing ``seedream`` or its simulator does not import this.

The spec cannot say "WIDTHxHEIGHT within [2560x1440, 3072x3072] pixels",
"reference images + n <= 15" or "no internal callback hosts", so schemathesis
calls bodies breaking them *valid* and would report the server's 400 as a
bug. :func:`is_prose_rule_rejection` recognises exactly that case (a
schema-valid body that ``_rules.check_request`` faults, answered 400 with the
envelope's ``param`` naming a faulted field), and the ``filter_failure`` hook
drops only ``positive_data_acceptance`` failures that match it. Every other
check, and that check for every other response, stays in force.
"""

from __future__ import annotations

import json
from typing import Any

from .. import _rules, _spec

__all__ = ["API_KEY", "install_prose_rule_filter", "is_prose_rule_rejection", "load_schema"]

API_KEY = "sk-test"


def load_schema(*, app: Any = None, base_url: str | None = None, api_key: str = API_KEY) -> Any:
    """The bundled spec as a schemathesis schema, aimed at an ASGI ``app`` or a live ``base_url``."""
    import schemathesis

    raw: dict[str, Any] = json.loads(json.dumps(_spec.load_spec()))  # a private deep copy
    schema = schemathesis.openapi.from_dict(raw)
    if app is not None:
        schema.app = app
    if base_url is not None:
        schema.config.update(base_url=base_url)
    _install_bearer(schema, api_key)
    install_prose_rule_filter(schema)
    return schema


def _install_bearer(schema: Any, api_key: str) -> None:
    """The key as this schema's auth provider, so schemathesis knows it is configured, not generated.

    (A plain configured header is taken for generated auth once an operation has header
    parameters of its own, such as ``Idempotency-Key``: ``ignored_auth`` then fails.)
    """

    @schema.auth()
    class _Bearer:
        def get(self, case: Any, context: Any) -> str:
            return api_key

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


def install_prose_rule_filter(schema: Any) -> None:
    """Register the ``filter_failure`` hook on ``schema`` only (not globally)."""
    from schemathesis.openapi.checks import RejectedPositiveData

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        return not (isinstance(failure, RejectedPositiveData) and is_prose_rule_rejection(case.body, response))

    schema.hook(filter_failure)


def is_prose_rule_rejection(body: object, response: Any) -> bool:
    """True when ``body`` is valid by the spec, breaks a prose rule, and the 400 names a field it breaks."""
    if response.status_code != 400 or not isinstance(body, dict):
        return False
    if not _spec.request_body_validator().is_valid(body):
        return False
    violations = _rules.check_request(body)
    if not violations:
        return False
    try:
        param = json.loads(response.content)["error"]["param"]
    except (ValueError, KeyError, TypeError):
        return False
    return param in {violation.field for violation in violations}
