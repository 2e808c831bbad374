"""Seeding the emulator with consultations in every status (demos, benchmarks, tests)."""

from __future__ import annotations

import random
from datetime import timedelta

from .life import SandboxLife
from .records import CallbackRecord, TimelineEntry, new_id
from .seed import DISABLED_DOCTOR_ID, FINAL_STATUSES, STATUS_ORDER, patient_name, patient_phone


class SandboxSeeding(SandboxLife):
    """``seed_callbacks`` of ``Sandbox``."""

    def seed_callbacks(
        self,
        n: int,
        rng: random.Random | int | None = None,
        *,
        seed: int | None = None,
        phone: str | tuple[str, str] | None = None,
        phone_every: int = 3,
        days: float = 14.0,
    ) -> list[str]:
        """Create `n` consultations in every status (round-robin), created over the past
        `days`, with varied doctors and patients; every `phone_every`-th one (the first
        included) gets `phone` ("+79099708593" or ("7", "9099708593")) when given."""
        if isinstance(rng, random.Random):
            r = rng
        else:
            base = rng if rng is not None else seed
            r = random.Random(base if base is not None else self.config.seed + 1)
        fixed_phone = _split_phone(phone) if phone is not None else None
        doctor_ids = [d for d in self.doctors if d != DISABLED_DOCTOR_ID]
        now = self.now()
        paths: dict[str, tuple[str, ...]] = {
            "Registered": ("Registered",),
            "PreProcessing": ("Registered", "PreProcessing"),
            "Delayed": ("Registered", "Delayed"),
            "Processing": ("Registered", "PreProcessing", "Processing"),
            "PostProcessing": ("Registered", "PreProcessing", "Processing", "PostProcessing"),
            "Processed": (
                "Registered",
                "PreProcessing",
                "Processing",
                "PostProcessing",
                "Processed",
            ),
            "Unsuccessful": ("Registered", "PreProcessing", "Processing", "Unsuccessful"),
        }
        created_ids: list[str] = []
        for i in range(n):
            target = STATUS_ORDER[i % len(STATUS_ORDER)]
            final = target in FINAL_STATUSES
            if final:
                created = now - timedelta(minutes=r.uniform(60, days * 24 * 60))
            else:
                created = now - timedelta(minutes=r.uniform(2, 50))
            use_fixed = fixed_phone is not None and i % max(phone_every, 1) == 0
            record = CallbackRecord(
                id=new_id(),
                seq=self._next_seq(),
                doctor_id=r.choice(doctor_ids),
                phone=fixed_phone if use_fixed and fixed_phone else patient_phone(r),
                patient_name=patient_name(r),
                created_at=created,
                begin_at=now + timedelta(hours=r.uniform(1, 48)) if target == "Delayed" else None,
                duration_min=r.choice((None, 10, 15, 30)),
                # An Unsuccessful one: the patient did not answer, or terminated by staff.
                will_succeed=not (target == "Unsuccessful" and r.random() < 0.7),
            )
            at = created
            for step in paths[target]:
                if step == "Unsuccessful" and record.will_succeed:
                    self._append_status(record, step, at, actor="System")
                    record.timeline.append(
                        TimelineEntry(new_id(), "Terminated", "Прервана партнёром", at, None)
                    )
                else:
                    self._append_status(record, step, at)
                at += timedelta(minutes=r.uniform(0.2, 1.5))
            self.callbacks[record.id] = record
            created_ids.append(record.id)
            self._ensure_life(record)
        return created_ids


def _split_phone(phone: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(phone, tuple):
        return phone
    import phonenumbers  # a project dependency; only needed for this convenience

    parsed = phonenumbers.parse(phone, "RU")
    return str(parsed.country_code), str(parsed.national_number)
