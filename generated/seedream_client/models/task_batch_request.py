# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from seedream_rules import DEFAULT_OPTIONS, RuleOptions

from ..errors import ConstraintViolation

T = TypeVar("T", bound="TaskBatchRequest")


@_attrs_define
class TaskBatchRequest:
    """
    Attributes:
        task_ids (list[str]): Task ids to query, at most 50
    """

    task_ids: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    @staticmethod
    def validate_dict(data: Any, path: str = "", rule_options: RuleOptions = DEFAULT_OPTIONS) -> None:
        """Check wire-form ``data`` against every constraint of this schema, then its prose rules.

        Raises ConstraintViolation naming the field, the value, the rule and
        its id. Generated from the bundled spec; the rules JSON Schema cannot
        express are called from ``seedream_rules`` by their ``x-seedream-rules``
        id (``RULES``). ``rule_options`` holds explicit test-only departures
        (internal callback hosts).
        """
        _p = f"{path}." if path else ""
        if not isinstance(data, Mapping):
            raise ConstraintViolation(path or "(body)", data, "type: must be an object")
        if "task_ids" not in data:
            raise ConstraintViolation(f"{_p}task_ids", None, "required")
        if "task_ids" in data:
            if not isinstance(data["task_ids"], list):
                raise ConstraintViolation(f"{_p}task_ids", data["task_ids"], "type: must be an array")
            if len(data["task_ids"]) > 50:
                raise ConstraintViolation(f"{_p}task_ids", data["task_ids"], "maxItems: at most 50 items")
            for _i2, _v2 in enumerate(data["task_ids"]):
                if not isinstance(_v2, str):
                    raise ConstraintViolation(f"{_p}task_ids[{_i2}]", _v2, "type: must be a string")

    def to_dict(self) -> dict[str, Any]:
        task_ids = self.task_ids

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "task_ids": task_ids,
            }
        )

        self.validate_dict(field_dict)
        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        # A request body is judged before any field is converted: a bad value gets the field and the rule,
        # not the enum's bare ValueError.
        cls.validate_dict(src_dict)
        d = dict(src_dict)
        task_ids = cast(list[str], d.pop("task_ids"))

        task_batch_request = cls(
            task_ids=task_ids,
        )

        task_batch_request.additional_properties = d
        return task_batch_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
