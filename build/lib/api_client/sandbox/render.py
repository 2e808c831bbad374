"""JSON of consultations as the real service sends them (quirks included)."""

from __future__ import annotations

from typing import Any

from .records import CallbackRecord, api_time
from .seed import ACTOR_NAMES, JSON, STATUS_NAMES, callback_type, doctor_full_name


def status_ref(status: str) -> JSON:
    return {"id": status, "name": STATUS_NAMES.get(status, status)}


def actor_ref(actor: str) -> JSON:
    return {"id": actor, "name": ACTOR_NAMES.get(actor, actor)}


def deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def doctor_json(doctor: JSON) -> JSON:
    copied: JSON = deep_copy(doctor)
    return copied


def callback_json(record: CallbackRecord, doctor: JSON | None) -> JSON:
    ctype = callback_type(doctor) if doctor else None
    report: JSON | None = None
    if record.report is not None:
        text, at = record.report
        report = {
            "text": text,
            "createdAtUtc": api_time(at),
            "attachments": [],
            "doctor": doctor_json(doctor) if doctor else None,
        }
    return {
        "id": record.id,
        "status": status_ref(record.status),
        "createdAtUtc": api_time(record.created_at),
        "beginAtUtc": api_time(record.begin_at) if record.begin_at else None,
        "duration": record.duration_min,
        "patientPhone": {"code": record.phone[0], "number": record.phone[1]},
        "patientFullName": record.patient_name,
        "doctorFullName": doctor_full_name(doctor) if doctor else None,
        "doctor": doctor_json(doctor) if doctor else None,
        # The real service's spelling.
        "costPerMinuite": deep_copy(ctype["cost"]) if ctype else None,
        "calls": [
            {
                "id": c.id,
                "actor": actor_ref(c.actor),
                "duration": c.duration,
                "startedAtUtc": api_time(c.started_at),
                "successful": c.successful,
            }
            for c in record.calls
        ],
        "statuses": [
            {
                "id": s.id,
                "status": status_ref(s.status),
                "actor": actor_ref(s.actor),
                "createdAtUtc": api_time(s.at),
            }
            for s in record.statuses
        ],
        "timeline": [
            {
                "id": t.id,
                "type": {"id": t.type, "name": t.name},
                "createdAtUtc": api_time(t.at),
                "data": t.data,
            }
            for t in record.timeline
        ],
        "medicalReport": report,
        "attachments": [dict(a) for a in record.attachments],
        "feedbacks": [],
        "transactions": [deep_copy(t) for t in record.transactions],
        "patient": {"partnerPatientId": None},
    }
