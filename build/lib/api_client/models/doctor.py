"""A doctor of the partner service and the consultation types they offer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, WrapValidator

from api_client.models.base import (
    ApiModel,
    Items,
    Lenient,
    _birth_date,
    _none_on_error,
    _Unwrapping,
)
from api_client.models.parts import Money, NamedRef


class ConsultationType(ApiModel):
    id: int | str | None = None
    type: Lenient[NamedRef] = None  # Callback / Writing / Voip / Video
    cost: Lenient[Money] = None
    is_available: bool | None = None
    is_disabled: bool | None = None


class Doctor(_Unwrapping):
    id: int | None = None
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    avatar_url: str | None = None
    birth_date: Annotated[
        date | None, BeforeValidator(_birth_date), WrapValidator(_none_on_error)
    ] = None
    region: Lenient[NamedRef] = None
    degree: Lenient[NamedRef] = None
    position: Lenient[NamedRef] = None
    specialties: Items[NamedRef] = Field(default_factory=list)
    consultation_types: Items[ConsultationType] = Field(default_factory=list)

    @property
    def full_name(self) -> str:
        """"Фамилия Имя Отчество" from the parts present; "" when none is."""
        parts = (self.last_name, self.first_name, self.middle_name)
        return " ".join(p.strip() for p in parts if p and p.strip())

    @property
    def callback_type(self) -> ConsultationType | None:
        """The doctor's "Callback" consultation type (cost, availability), if offered."""
        for ctype in self.consultation_types:
            if ctype.type is not None and ctype.type.id == "Callback":
                return ctype
        return None
