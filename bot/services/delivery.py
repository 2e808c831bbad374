"""May an outbox row still go to its recipient? Asked by the outbox sender at send time.

The row was queued when its recipient had the right; roles change meanwhile (a coordinator
demoted, a doctor unlinked, an id taken out of ADMIN_IDS). The answer comes from the one
policy (``bot.services.access``) with the actor as the database shows them now:

* audience "consultation" (patient data of ``consultation_id``): ``Action.RECEIVE`` on that
  consultation — gone or unknown consultation: no;
* audience "admin" (an operational alert): ``Action.RECEIVE_ALERTS``;
* audience "digest_own" / "digest_all" (a morning digest: patient names of several
  consultations): ``Action.LIST``, and for "digest_all" — built with the breadth of a
  coordinator or admin — still being one (someone demoted to a doctor since must not get
  the whole account's day). A doctor linked to another doctor id in the seconds between
  queueing and sending is not told apart (the row does not say whose consultations it
  lists);
* no audience (team chat, account messages): not asked, always yes.

Only people are checked: a row with an audience addressed to a group (chat id ≤ 0) is
refused, and so is an audience this code does not know.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.access import Action, allowed, load_actor
from storage.enums import Audience
from storage.models import OutboxMessage
from storage.repositories.consultations import ConsultationRepository


async def may_deliver(
    session: AsyncSession, row: OutboxMessage, admin_ids: Collection[int]
) -> bool:
    if row.audience is None:
        return True
    try:
        audience = Audience(row.audience)
    except ValueError:
        return False
    if row.chat_id <= 0:
        return False
    actor = await load_actor(session, row.chat_id, admin_ids)
    if audience is Audience.ADMIN:
        return allowed(actor, Action.RECEIVE_ALERTS)
    if audience in (Audience.DIGEST_OWN, Audience.DIGEST_ALL):
        return allowed(actor, Action.LIST) and (audience is Audience.DIGEST_OWN or actor.is_staff)
    consultation = (
        await ConsultationRepository(session).get(row.consultation_id)
        if row.consultation_id is not None
        else None
    )
    return allowed(actor, Action.RECEIVE, consultation)
