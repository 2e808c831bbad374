"""/report over N consultations: wall time and the process's memory while it is made.

    .venv/bin/python -m tests.bench.report [--consultations 10000] [--open 0.1] [--runs 5]

One world (tests/bench/common.py: temp SQLite, fake Bot API, sandbox over HTTP): N
consultations created over the last 30 days, ``--open`` of them still open at the sandbox
(the report's refresh fetches them: URL-bounded get-all batches through the status path),
the rest final with their figures stored. Each run is the production job
(bot/routers/report_job.py ``ReportJob.run``): count, refresh, paged read, totals + chart +
CSV in a worker thread, the totals message and both files sent to the fake over HTTP.

Memory is this process's VmRSS sampled every 5 ms in a thread while a report runs: the
first (cold) run imports matplotlib and numpy; "warm" runs come after. Baselines in the same
run: the bare read of the same N rows (``select(Consultation)``) plus a bare ``get_many`` of
the open ids — what any report must at least do.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench.common import (
    DEFAULT_RUNS,
    add_users,
    machine_note,
    median,
    print_table,
    quiet_logging,
    ratio,
    rss_mb,
    seed_tracked,
    world,
)

COORDINATORS = list(range(950_000, 950_020))
CHAT_ID = COORDINATORS[0]


class RssSampler:
    """Peak VmRSS (MiB) of this process while the block runs, sampled in a thread."""

    def __init__(self, every: float = 0.005) -> None:
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


async def seed_final(w: Any, n: int, days: int, seed: int = 5) -> None:
    """n final consultations with their figures, created over the last ``days`` days."""
    from storage.enums import ConsultationState, Origin
    from storage.models import Consultation

    rng = random.Random(seed)
    now = datetime.now(UTC)
    doctors = sorted(w.sandbox.doctors)
    async with w.session_factory() as session:
        for offset in range(0, n, 2000):
            rows = []
            for k in range(offset, min(n, offset + 2000)):
                created = now - timedelta(minutes=rng.uniform(60, days * 24 * 60 - 60))
                reached = rng.random() < 0.7
                talk = rng.randint(60, 900) if reached else 0
                rows.append(
                    Consultation(
                        partner_id=f"{k:08x}-bench-final",
                        state=ConsultationState.FINAL,
                        origin=Origin.BOT,
                        coordinator_id=COORDINATORS[k % len(COORDINATORS)],
                        doctor_id=rng.choice(doctors),
                        doctor_name=f"Доктор Бенчмарков {k % 14}",
                        patient_name="Пациент Бенчмарк",
                        patient_phone=f"+7909{k:07d}",
                        last_status="Processed" if reached else "Unsuccessful",
                        last_status_at=created + timedelta(minutes=20),
                        terminated=not reached and rng.random() < 0.3,
                        figures_at=created + timedelta(minutes=20),
                        calls_count=1 if reached else rng.randint(0, 2),
                        talk_seconds=talk,
                        patient_reached=reached,
                        first_call_at=created + timedelta(minutes=2),
                        cost_per_minute_cents=rng.choice((3500, 4000, 5500, 7000)),
                        cost_currency="RUB",
                        created_at=created,
                        updated_at=now,
                    )
                )
            session.add_all(rows)
            await session.flush()
        await session.commit()


def timed_stages(maker: Any, jobs: Any, stages: dict[str, float]) -> None:
    """Wrap the job's stages (maker's count/refresh/records, the threaded build) so each run
    also says where its time went."""

    def wrap(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                stages[label] = stages.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed)

    wrap(maker, "count", "count s")
    wrap(maker, "refresh", "refresh s")
    wrap(maker, "records", "read s")
    wrap(jobs, "in_thread", "build s")


async def measure(n: int, open_share: float, runs: int) -> tuple[list[dict[str, float]], Any]:
    from sqlalchemy import select

    from bot.notifications.runtime import status_processor
    from bot.reports.period import Period
    from bot.routers.report_job import ReportJob, ReportJobs
    from bot.services.access import Actor
    from bot.services.reports import ReportMaker, authorize_report
    from storage.enums import Role
    from storage.models import Consultation

    results: list[dict[str, float]] = []
    async with world() as w:
        await add_users(w.session_factory, COORDINATORS)
        n_open = int(n * open_share)
        tracked = await seed_tracked(
            w.session_factory, w.sandbox, n_open, coordinators=COORDINATORS
        )
        await seed_final(w, n - n_open, days=30)
        w.tg.user(CHAT_ID, language_code="en")
        processor = status_processor(w.i18n, admin_ids=(), cards=False)
        maker = ReportMaker(session_factory=w.session_factory, api=w.api, processor=processor)
        jobs = ReportJobs()
        stages: dict[str, float] = {}
        timed_stages(maker, jobs, stages)
        today = datetime.now(UTC).date()
        period = Period(today - timedelta(days=31), today)
        tz = UTC
        actor = Actor(CHAT_ID, Role.COORDINATOR)
        t = w.i18n.translator("en")
        async with w.session_factory() as session:
            scope = await authorize_report(session, actor, period, tz)
        assert await maker.count(scope) == n, await maker.count(scope)
        baseline_rss = rss_mb()

        for _run in range(runs + 1):  # run 0 is the cold one
            figures: dict[str, float] = {}
            # Baselines: the bare read of the rows, and the bare fetch of the open ones.
            t0 = time.perf_counter()
            async with w.session_factory() as session:
                rows = (await session.scalars(select(Consultation))).all()
            figures["bare read s"] = time.perf_counter() - t0
            assert len(rows) >= n
            del rows
            t0 = time.perf_counter()
            await w.api.get_many(tracked.partner_ids)
            figures["bare fetch s"] = time.perf_counter() - t0

            before = rss_mb()
            sent_before = len(w.tg.bot_messages(CHAT_ID))
            job = ReportJob(
                maker=maker,
                jobs=jobs,
                bot=w.bot,
                chat_id=CHAT_ID,
                scope=scope,
                t=t,
                tz=tz,
                now=datetime.now(UTC),
            )
            w.sandbox.clear_requests()
            stages.clear()
            with RssSampler() as sampler:
                t0 = time.perf_counter()
                await job.run()
                figures["report s"] = time.perf_counter() - t0
            sent = w.tg.bot_messages(CHAT_ID)[sent_before:]
            assert [m.photo is not None for m in sent[-2:]] == [True, False], sent
            document = sent[-1].document
            assert document is not None and document.content is not None
            figures["csv MiB"] = len(document.content) / 2**20
            figures["png KiB"] = len(sent[-2].photo.content or b"") / 1024  # type: ignore[union-attr]
            figures["get-all requests"] = len(w.sandbox.requests_for("get_all"))
            figures["rss before MiB"] = before
            figures["rss peak MiB"] = sampler.peak
            figures["rss delta MiB"] = sampler.peak - before
            figures["rss after MiB"] = rss_mb()
            figures.update(stages)
            figures["other s"] = figures["report s"] - sum(stages.values())
            results.append(figures)
        figures_meta = {"baseline rss MiB": baseline_rss, "open": n_open}
    return results, figures_meta


async def main_async(args: argparse.Namespace) -> None:
    quiet_logging()
    results, meta = await measure(args.consultations, args.open, args.runs)
    cold, warm = results[0], results[1:]

    def m(key: str) -> float:
        return median([r[key] for r in warm])

    bare = m("bare read s") + m("bare fetch s")
    rows = [
        ["bare read of the rows + bare get_many of the open ones", bare, ratio(1, 1), "", "", ""],
        [
            "report, cold (first: imports matplotlib)",
            cold["report s"],
            ratio(cold["report s"], cold["bare read s"] + cold["bare fetch s"]),
            cold["rss before MiB"],
            cold["rss peak MiB"],
            cold["rss delta MiB"],
        ],
        [
            f"report, warm (median of {len(warm)})",
            m("report s"),
            ratio(m("report s"), bare),
            m("rss before MiB"),
            m("rss peak MiB"),
            m("rss delta MiB"),
        ],
    ]
    print_table(
        f"/report over N = {args.consultations:,} consultations ({meta['open']:,} open, "
        f"refreshed from the sandbox over HTTP; SQLite; {machine_note()})",
        ["what", "wall s", "vs bare", "RSS before MiB", "RSS peak MiB", "peak − before MiB"],
        rows,
    )
    stage_names = ["count s", "refresh s", "read s", "build s", "other s"]
    print_table(
        "Where a report's time goes (s; build = totals + chart + CSV in the worker thread; "
        "other = the totals message and both uploads)",
        ["run", *stage_names],
        [
            ["cold", *(cold[k] for k in stage_names)],
            ["warm (median)", *(m(k) for k in stage_names)],
        ],
    )
    print(
        f"RSS before any report {meta['baseline rss MiB']:.1f} MiB; after the last "
        f"{results[-1]['rss after MiB']:.1f} MiB. get-all requests per report "
        f"{m('get-all requests'):.0f}; CSV {m('csv MiB'):.2f} MiB, chart {m('png KiB'):.0f} KiB."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consultations", type=int, default=10_000)
    parser.add_argument("--open", type=float, default=0.1, help="share still open")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
