"""consultations.announced_at: the booking is announced once, at the first look after the
start, so a later look with no change tells nobody (not even recipients who appeared since).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))
    # Consultations already looked at since their start (a status event beyond the start's
    # own, or a final state) were announced by the code before this column: mark them so.
    op.execute(
        """
        UPDATE consultations SET announced_at = COALESCE(last_seen_at, updated_at)
        WHERE state = 'final' OR EXISTS (
            SELECT 1 FROM status_events
            WHERE status_events.consultation_id = consultations.id
              AND status_events.source <> 'start'
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_column("announced_at")
