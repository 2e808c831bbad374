"""The outbox sender: drains the durable outbox into Telegram within its limits.

* ``limits`` — per-chat / group / overall caps as sliding windows, and 429 pauses;
* ``gate`` — the request middleware that applies them just before the network;
* ``outcomes`` — pure: what a Telegram error means for a row;
* ``records`` — the rows' writes (claim, lease, sent, dead, reschedule, retarget, drop);
* ``send`` — one row to the end: the recipient's right, the send, its outcome, the mark;
* ``loop`` — ``OutboxSender``: claim, hand rows to per-chat workers, start and stop.
"""

from bot.outbox.loop import OutboxSender
from bot.outbox.outcomes import Kind, Outcome, outcome_of
from bot.outbox.records import RecipientCheck
from bot.outbox.send import ChatMigrated

__all__ = ["ChatMigrated", "Kind", "OutboxSender", "Outcome", "RecipientCheck", "outcome_of"]
