"""The card as opened from a list: the one look at the partner API it needs.

Rendering is ``bot/rendering/card.py`` (the same card the wizard and the notifications
draw); this module only fetches the consultation.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from api_client.errors import NotFound, PartnerApiError
from api_client.models import Callback
from storage.models import Consultation

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    callback: Callback | None
    offline: bool  # the service did not answer (or has no such consultation any more)


async def fetch(api: Any, consultation: Consultation) -> Fetched:
    if not consultation.partner_id:
        return Fetched(None, False)
    try:
        return Fetched(await api.get_callback(consultation.partner_id), False)
    except NotFound:
        return Fetched(None, True)
    except PartnerApiError as exc:
        log.info("card_fetch_failed consultation=%s error=%s", consultation.id, type(exc).__name__)
        return Fetched(None, True)
