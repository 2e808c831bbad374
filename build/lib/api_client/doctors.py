"""The doctor routes of the partner API (``/api/v1/doctor``), which some deployments lack:
then ``RouteUnavailable`` rather than ``NotFound``."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from api_client.errors import ServerError
from api_client.models import Doctor, unwrap_item
from api_client.transport import DOCTOR_ROUTES, Transport, logger


class DoctorRoutes(Transport):
    """``get_doctor`` and ``list_doctors``."""

    async def get_doctor(self, doctor_id: int) -> Doctor:
        """One doctor; ``NotFound`` for an unknown id, ``RouteUnavailable`` when the
        deployment does not offer the doctor routes."""
        data = await self._get_json(
            f"{DOCTOR_ROUTES}/get/{int(doctor_id)}", "doctor-get", doctor_route=True
        )
        return self._parse(Doctor, data)

    async def list_doctors(
        self,
        *,
        last_name: str | None = None,
        first_name: str | None = None,
        specialty_ids: Iterable[int] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Doctor]:
        params: list[tuple[str, str]] = []
        if last_name:
            params.append(("lastName", last_name))
        if first_name:
            params.append(("firstName", first_name))
        params += [("specialtyIds", str(int(s))) for s in specialty_ids or ()]
        params += [("limit", str(limit)), ("offset", str(offset))]
        data = unwrap_item(
            await self._get_json(
                f"{DOCTOR_ROUTES}/get-all", "doctor-get-all", params=params, doctor_route=True
            )
        )
        items = data.get("items") if isinstance(data, dict) else data
        if items is None:
            items = []
        if not isinstance(items, list):
            raise ServerError(200, "invalid_response", None, "doctor list is not a list")
        doctors: list[Doctor] = []
        for raw in items:
            try:
                doctors.append(Doctor.parse_payload(raw))
            except ValidationError:
                logger.warning("partner_api dropped an unreadable doctor entry")
        return doctors
