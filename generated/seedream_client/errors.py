# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
"""Contains shared errors types that can be raised from API functions"""

# ConstraintViolation is defined by the rule package (hand-written, dependency-free), so the generated
# validators and the rule implementations they call raise one class, carrying the rule id.
from seedream_rules import ConstraintViolation


class UnexpectedStatus(Exception):
    """Raised by api functions when the response status an undocumented status and Client.raise_on_unexpected_status is True"""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

        super().__init__(
            f"Unexpected status code: {status_code}\n\nResponse content:\n{content.decode(errors='ignore')}"
        )


__all__ = ["ConstraintViolation", "UnexpectedStatus"]
