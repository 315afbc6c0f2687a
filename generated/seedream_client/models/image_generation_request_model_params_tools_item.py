# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from seedream_rules import DEFAULT_OPTIONS, RuleOptions

from ..errors import ConstraintViolation
from ..models.image_generation_request_model_params_tools_item_type import (
    ImageGenerationRequestModelParamsToolsItemType,
)

T = TypeVar("T", bound="ImageGenerationRequestModelParamsToolsItem")


@_attrs_define
class ImageGenerationRequestModelParamsToolsItem:
    """
    Attributes:
        type_ (ImageGenerationRequestModelParamsToolsItemType): Tool type
    """

    type_: ImageGenerationRequestModelParamsToolsItemType
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
        if "type" not in data:
            raise ConstraintViolation(f"{_p}type", None, "required")
        if "type" in data:
            if not isinstance(data["type"], str):
                raise ConstraintViolation(f"{_p}type", data["type"], "type: must be a string")
            if data["type"] not in ["web_search"]:
                raise ConstraintViolation(f"{_p}type", data["type"], "enum: one of web_search")

    def to_dict(self) -> dict[str, Any]:
        type_ = str(self.type_)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = ImageGenerationRequestModelParamsToolsItemType(d.pop("type"))

        image_generation_request_model_params_tools_item = cls(
            type_=type_,
        )

        image_generation_request_model_params_tools_item.additional_properties = d
        return image_generation_request_model_params_tools_item

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
