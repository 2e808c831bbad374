"""One claimed row to the end: the recipient's right, the send, what its outcome means.

* Each send is one ``attempt.SendAttempt``: the recipient's right (rows with an
  ``audience``, ``recipient_check``, e.g. ``bot.services.delivery.may_deliver``: a refused
  row is dead, "recipient_no_access", and audited, never sent) and the claim re-checked
  right before the network, the row marked sent right after Telegram's answer, in one
  session, within a bounded number of sends in flight (``slots``).
* Outcomes (``outcomes.outcome_of``): ``RetryAfter`` is waited out (inline while the claim
  lasts, else rescheduled) and not counted as a failure; network errors and 5xx are
  rescheduled with exponential backoff (capped, jittered) by the row's failed sends
  (``failures``: a claim handed back unsent is no failure), ``max_attempts`` failures at most; a
  migrated group's rows follow the new id, which is stored (``app_state``, read at
  start-up for TEAM_CHAT_ID, so a restart keeps it; ``on_chat_migrated`` tells the
  application too); "message is not modified" counts as sent; an edit of a message that is
  gone is sent as a new message — except a retention wipe (``SCRUB_KEY_PREFIX``): its
  message gone or no longer editable leaves nothing to wipe, so the row is dead.
* Every attempt's outcome goes to ``on_send`` (a word: ``sent``, ``dropped`` — refused by the
  recipient check — or a ``Kind`` value such as ``retry_after``, Telegram's 429): the
  application counts them (bot/metrics.py).
* Rows about a consultation (``audience == "consultation"``: patient name, phone, medical
  text) and morning digests (patient names) are sent with ``protect_content``: the
  recipient's client offers no forwarding or saving. Derived here, not stored: the audience
  already says what the row carries (``PATIENT_DATA_AUDIENCES``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup, Message

from bot.outbox.attempt import LeaseLost, RecipientRefused, SendAttempt, SendSlots
from bot.outbox.gate import RequestGate
from bot.outbox.limits import RateLimits
from bot.outbox.outcomes import Kind, outcome_of
from bot.outbox.records import OutboxRecords, RecipientCheck
from storage.enums import PATIENT_DATA_AUDIENCES
from storage.models import OutboxMessage
from storage.repositories.outbox import SCRUB_KEY_PREFIX

log = logging.getLogger(__name__)

ChatMigrated = Callable[[int, int], Awaitable[None]]
OnSend = Callable[[str], None]


def _ignore(outcome: str) -> None:
    return None


class RowDelivery:
    """Delivers the rows the loop hands over, one at a time per chat."""

    def __init__(
        self,
        bot: Bot,
        records: OutboxRecords,
        limits: RateLimits,
        gate: RequestGate,
        slots: SendSlots,
        *,
        recipient_check: RecipientCheck | None,
        backoff_base: float,
        backoff_cap: float,
        max_attempts: int,
        team_chat_id: int | None,
        on_chat_migrated: ChatMigrated | None,
        on_send: OnSend | None = None,
    ) -> None:
        self.bot = bot
        self.on_send = on_send or _ignore
        self._records = records
        self._limits = limits
        self._gate = gate
        self.slots = slots
        self.recipient_check = recipient_check
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_attempts = max_attempts
        self.team_chat_id = team_chat_id
        self.on_chat_migrated = on_chat_migrated
        self._aliases: dict[int, int] = {}  # old group id → new supergroup id
        self.sent_count = 0
        self.dead_count = 0

    async def deliver(self, row: OutboxMessage) -> bool:
        """Send one row to the end; True when the chat's next row may follow."""
        target = self._aliases.get(row.chat_id, row.chat_id)
        if target != row.chat_id:
            await self._records.retarget(row.chat_id, target, announce=False)
            row.chat_id = target
            row.edit_message_id = None
        if row.text is None:
            await self._mark_dead(row, "text removed by retention")
            return True
        edit_id = row.edit_message_id
        while True:
            try:
                await self._attempt(row, edit_id)
                return True
            except RecipientRefused:
                self.dead_count += 1
                self.on_send("dropped")
                return True  # dropped: the chat's next row may follow
            except LeaseLost:
                return False  # another sender owns it now: leave it (and the chat) to it
            except TelegramAPIError as exc:
                outcome = outcome_of(exc, editing=edit_id is not None)
                kind = outcome.kind
                if kind is not Kind.SENT:
                    self.on_send(kind.value)
                if kind is Kind.SENT:
                    message_id = edit_id
                elif kind is Kind.RETRY_AFTER:
                    # The gate paused the chat (or every send) already.
                    log.warning("outbox_retry_after row_id=%s seconds=%s", row.id, outcome.seconds)
                    if self._records.may_wait_inline(row, outcome.seconds):
                        continue
                    await self._records.reschedule(row, outcome.seconds, outcome.error)
                    return False
                elif kind is Kind.MIGRATED:
                    assert outcome.new_chat_id is not None
                    await self._migrated(row, outcome.new_chat_id)
                    edit_id = None
                    continue
                elif kind is Kind.RESEND:
                    if row.dedupe_key.startswith(SCRUB_KEY_PREFIX):
                        # Nothing left to wipe (retention counts these): no new message.
                        await self._mark_dead(row, "not editable")
                        return True
                    edit_id = None  # the card is gone: send it anew
                    continue
                elif kind is Kind.DEAD:
                    await self._mark_dead(row, outcome.error)
                    return True
                elif kind in (Kind.CHAT_DEAD, Kind.FORBIDDEN):
                    self.dead_count += await self._records.chat_dead(
                        row, outcome.error, deactivate=kind is Kind.FORBIDDEN
                    )
                    return False
                elif kind is Kind.UNAUTHORIZED:
                    # The bot token itself is refused: keep the rows, try much later.
                    self._limits.pause(outcome.seconds)
                    await self._records.reschedule(row, outcome.seconds, outcome.error)
                    return False
                else:
                    return await self._retry_later(row, outcome.error)
            # "message is not modified": the edit was there already (idempotent, no slot).
            await self._records.mark_sent(row, message_id)
            self._count_sent()
            return True

    def _count_sent(self) -> None:
        self.sent_count += 1
        self.on_send("sent")

    async def _attempt(self, row: OutboxMessage, edit_id: int | None) -> None:
        """One send to its record (``attempt``); a Telegram error is raised once the slot
        is given back, so handling it (a wait, a reschedule) holds none."""
        async with SendAttempt(row, self._records, self.slots, self.recipient_check) as attempt:
            with self._gate.sending(attempt):
                message_id = await self._send(row, edit_id)
            await attempt.sent(message_id)
        self._count_sent()

    async def _send(self, row: OutboxMessage, edit_id: int | None) -> int | None:
        markup = (
            InlineKeyboardMarkup.model_validate_json(row.reply_markup)
            if row.reply_markup
            else None
        )
        assert row.text is not None
        if edit_id is not None:
            result = await self.bot.edit_message_text(
                text=row.text, chat_id=row.chat_id, message_id=edit_id, reply_markup=markup
            )
            return result.message_id if isinstance(result, Message) else edit_id
        message = await self.bot.send_message(
            row.chat_id,
            row.text,
            reply_markup=markup,
            protect_content=row.audience in PATIENT_DATA_AUDIENCES or None,
        )
        return message.message_id

    # ------------------------------------------------------------------ bookkeeping

    def backoff(self, attempts: int) -> float:
        raw = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, attempts - 1))
        return raw * random.uniform(0.8, 1.2)

    async def _retry_later(self, row: OutboxMessage, error: str) -> bool:
        failures = (row.failures or 0) + 1  # this one included
        if failures >= self.max_attempts:
            await self._mark_dead(row, f"gave up after {failures} failed sends: {error}")
            return True
        delay = self.backoff(failures)
        log.warning("outbox_retry row_id=%s failure=%s in=%.1fs error=%s",
                    row.id, failures, delay, error)
        await self._records.reschedule(row, delay, error, failed=True)
        return False

    async def _mark_dead(self, row: OutboxMessage, error: str) -> None:
        await self._records.mark_dead(row, error)
        self.dead_count += 1

    async def _migrated(self, row: OutboxMessage, new_id: int) -> None:
        old = row.chat_id
        log.warning("outbox_chat_migrated old=%s new=%s", old, new_id)
        self._aliases[old] = new_id
        await self._records.retarget(old, new_id, announce=True)
        row.chat_id = new_id
        if old == self.team_chat_id:
            self.team_chat_id = new_id
            log.warning(
                "team_chat_migrated old=%s new=%s stored=yes (TEAM_CHAT_ID may be updated to %s)",
                old, new_id, new_id,
            )
        if self.on_chat_migrated is not None:
            try:
                await self.on_chat_migrated(old, new_id)
            except Exception as exc:
                log.error("chat_migrated_callback_failed error=%s", type(exc).__name__)
