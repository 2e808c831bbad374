"""The local mirror of the partner's consultations: ``ConsultationRepository``.

Its parts live in modules named for what they hold: ``consultations_lookups`` (by id,
token, partner id; reconcile batches), ``consultations_writes`` (creation, state changes,
refresh queue), ``consultations_search`` (list pages, search), ``consultations_jobs``
(reminders, retention purge), ``consultations_digest`` (the morning digest's lists and
counts), ``consultations_figures`` (what /report counts). Import from here (or
``storage.repositories``).
"""

from __future__ import annotations

from storage.repositories.consultations_digest import (
    ConsultationDigest,
    Listed,
    OutcomeCounts,
)
from storage.repositories.consultations_figures import ConsultationFigures, ReportSelection
from storage.repositories.consultations_jobs import ConsultationJobs, PurgeCounts, SentCopy
from storage.repositories.consultations_search import ConsultationSearch, Order, name_search_key
from storage.repositories.consultations_writes import ConsultationWrites, NewConsultation

__all__ = [
    "ConsultationRepository",
    "Listed",
    "NewConsultation",
    "Order",
    "OutcomeCounts",
    "PurgeCounts",
    "ReportSelection",
    "SentCopy",
    "name_search_key",
]


class ConsultationRepository(
    ConsultationWrites,
    ConsultationSearch,
    ConsultationJobs,
    ConsultationDigest,
    ConsultationFigures,
):
    """The local mirror of the partner's consultations."""
