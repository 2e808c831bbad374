"""Telegram faults against the outbox sender, on a fake clock.

* 40 % of sendMessage answered 500 for five minutes: retry delays count a row's failed
  sends, not its claims, so no row waits minutes after its first failure, none dies
  without failing, and every chat is through within one backoff step of the recovery.
* ``kill -9`` of the sender mid-batch: the next run of the same instance releases the dead
  run's claims at once (no lease to wait out); a message sent but not marked is repeated
  once. Replicas: a live holder renews its claims; a dead one's pass on within one lease.
* 502 after Telegram stored the message: at most one extra copy per fault.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from aiogram import Bot

from tests.fake_telegram import FakeTelegram
from tests.faults.clock import FakeClock
from tests.faults.outbox_steps import SF, copies, enqueue, pending, sender, stored

OUTAGE = 300  # seconds of 40 % errors
BACKLOG = 90
SHARE = 0.4


async def test_a_partial_outage_delays_each_chat_by_one_backoff_step(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    clock = FakeClock()
    chats = [fake_tg.user(900 + i) for i in range(3)]
    out = sender(bot, session_factory, clock)
    fake_tg.force_error_share(SHARE, status=500, methods=["sendMessage"], seed=12)
    # A backlog when it begins (30 a chat), then one message a second, to the chats in turn.
    for t in range(-BACKLOG, 0):
        await enqueue(session_factory, clock, chats[t % 3].id, f"m{t}")
    for t in range(OUTAGE):
        await enqueue(session_factory, clock, chats[t % 3].id, f"m{t}")
        await out.run_once()
        clock.advance(1.0)
    fake_tg.clear_faults()
    recovered = clock.elapsed
    while await pending(session_factory):
        await out.run_once()
        clock.advance(0.5)
        assert clock.elapsed - recovered < 700, fake_tg.describe()
    recovery = clock.elapsed - recovered

    rows = await stored(session_factory)
    assert not [r.id for r in rows if r.dead], "a row died during a partial outage"
    # Failed sends per message, as Telegram saw them.
    failures = Counter(c.params["text"].split("\n\n")[0]
                       for c in fake_tg.calls("sendMessage") if c.status == 500)
    worst = max(failures.values())
    # Every chat is through within one backoff step (base·2^(failures-1), +20 % jitter)
    # of the row that failed most, plus the step of this loop. Measured: 1.5 s (claims
    # counted instead: 213 s, and only 27 sends tried in the five minutes).
    step = 1.2 * 2.0 ** (worst - 1)
    assert recovery <= step + 0.5, (recovery, worst)
    assert sum(failures.values()) > 50  # the outage was real, and sends kept being tried
    assert sum(r.failures for r in rows) == sum(failures.values())  # failures, not claims
    # Claims handed back unsent (an earlier row of the chat failed) were many; they did
    # not count: before, each claim did, and back rows waited minutes after one failure.
    assert sum(r.attempts - 1 - r.failures for r in rows) > 100
    for i, chat in enumerate(chats):
        texts = [f"m{t}" for t in range(-BACKLOG, OUTAGE) if t % 3 == i]
        got = copies(fake_tg, chat.id)
        assert all(got[text] == 1 for text in texts) and sum(got.values()) == len(texts)
        seen = [(m.text or "").split("\n\n")[0] for m in fake_tg.bot_messages(chat.id)]
        assert seen == texts  # chat order kept


async def test_a_restart_after_kill_sends_at_once_and_repeats_at_most_one(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    clock = FakeClock()
    a, b = fake_tg.user(910), fake_tg.user(911)
    for i in range(3):
        await enqueue(session_factory, clock, a.id, f"a{i}")
        await enqueue(session_factory, clock, b.id, f"b{i}")
    dead = sender(bot, session_factory, clock)
    held = await dead.records.claim(100, [])
    assert len(held) == 6
    # The killed run had sent a0 and died before marking it.
    await bot.send_message(a.id, "a0")
    del dead  # kill -9: no stop(), no release

    clock.advance(1.0)  # the restart takes a second; the old lease had 120 s (now 8 s)
    restarted = sender(bot, session_factory, clock)
    await restarted.run_once()
    assert await pending(session_factory) == 0, fake_tg.describe()
    assert copies(fake_tg, a.id) == {"a0": 2, "a1": 1, "a2": 1}  # one repeat: the unmarked
    assert copies(fake_tg, b.id) == {"b0": 1, "b1": 1, "b2": 1}


async def test_a_dead_replicas_claims_pass_on_within_one_lease(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    clock = FakeClock()
    u = fake_tg.user(920)
    for i in range(2):
        await enqueue(session_factory, clock, u.id, f"r{i}")
    one = sender(bot, session_factory, clock, instance="replica-1")
    two = sender(bot, session_factory, clock, instance="replica-2")
    assert len(await one.records.claim(100, [])) == 2
    # replica-1 lives: it renews every few seconds; replica-2 never gets its rows.
    for _ in range(4):
        clock.advance(5.0)
        await one.records.renew([])
        assert await two.run_once() == 0
    # replica-1 dies (its last renewal was just now): replica-2 may take them 8 s later.
    clock.advance(7.0)
    assert await two.run_once() == 0
    clock.advance(1.0)
    assert await two.run_once() == 2
    assert copies(fake_tg, u.id) == {"r0": 1, "r1": 1}
    # replica-2's start did not touch replica-1's claims (another instance, maybe alive).
    assert all(r.claimed_by is None for r in await stored(session_factory))


async def test_502_after_the_message_was_stored_costs_at_most_one_copy_per_fault(
    fake_tg: FakeTelegram, bot: Bot, session_factory: SF
) -> None:
    clock = FakeClock()
    u, v = fake_tg.user(930), fake_tg.user(931)
    for i in range(10):
        await enqueue(session_factory, clock, u.id, f"u{i}")
        await enqueue(session_factory, clock, v.id, f"v{i}")
    fake_tg.force_error(3, status=502, chat_id=u.id, after=True)
    fake_tg.force_error_share(0.3, status=502, methods=["sendMessage"], seed=6, after=True)
    out = sender(bot, session_factory, clock)
    for _ in range(20):
        await out.run_once()
        clock.advance(1.0)
    fake_tg.clear_faults()
    while await pending(session_factory):
        await out.run_once()
        clock.advance(1.0)
        assert clock.elapsed < 600, fake_tg.describe()
    faults = sum(1 for c in fake_tg.calls("sendMessage") if c.status == 502)
    assert faults >= 3
    extra = 0
    for chat, prefix in ((u, "u"), (v, "v")):
        got = copies(fake_tg, chat.id)
        assert set(got) == {f"{prefix}{i}" for i in range(10)}  # nothing lost
        extra += sum(got.values()) - 10
    assert extra <= faults, (extra, faults)
    assert extra == faults  # each lost answer is one copy: the retry sends it again


def test_default_lease_is_short() -> None:
    from bot.outbox.loop import OutboxSender

    # Within 10 s of a death (issue 13) however it is timed: one lease after the last
    # heartbeat, plus the other replica's own time to claim and send.
    assert OutboxSender.__init__.__kwdefaults__["lease"] <= timedelta(seconds=8)
