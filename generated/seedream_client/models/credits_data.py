# GENERATED FILE - DO NOT EDIT. openapi-python-client 0.29.1 from
# openapi/bundled/seedream.openapi.yaml with scripts/templates; run `nox -s regenerate`.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.credits_balance import CreditsBalance
    from ..models.token_credits import TokenCredits


T = TypeVar("T", bound="CreditsData")


@_attrs_define
class CreditsData:
    """
    Attributes:
        user (CreditsBalance | Unset):
        token (TokenCredits | Unset): This API key's own limit
    """

    user: CreditsBalance | Unset = UNSET
    token: TokenCredits | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user: dict[str, Any] | Unset = UNSET
        if not isinstance(self.user, Unset):
            user = self.user.to_dict()

        token: dict[str, Any] | Unset = UNSET
        if not isinstance(self.token, Unset):
            token = self.token.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if user is not UNSET:
            field_dict["user"] = user
        if token is not UNSET:
            field_dict["token"] = token

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credits_balance import CreditsBalance  # noqa: PLC0415
        from ..models.token_credits import TokenCredits  # noqa: PLC0415

        d = dict(src_dict)
        _user = d.pop("user", UNSET)
        user: CreditsBalance | Unset
        if isinstance(_user, Unset):
            user = UNSET
        else:
            user = CreditsBalance.from_dict(_user)

        _token = d.pop("token", UNSET)
        token: TokenCredits | Unset
        if isinstance(_token, Unset):
            token = UNSET
        else:
            token = TokenCredits.from_dict(_token)

        credits_data = cls(
            user=user,
            token=token,
        )

        credits_data.additional_properties = d
        return credits_data

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
