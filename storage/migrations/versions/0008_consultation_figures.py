"""consultations: the figures /report counts (calls, talk time, reached, first call, cost
per minute and its currency, terminated, when they were stored) and an index on
(created_at, id) for reading a period in pages.

Existing rows get NULL figures: a report counts them as "data missing" until a look at the
partner (the report's own refresh, reconcile, a web-hook, a card) stores them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("calls_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("talk_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("patient_reached", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("first_call_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cost_per_minute_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("cost_currency", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("terminated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_consultations_created_at_id", ["created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index("ix_consultations_created_at_id")
        batch_op.drop_column("terminated")
        batch_op.drop_column("cost_currency")
        batch_op.drop_column("cost_per_minute_cents")
        batch_op.drop_column("first_call_at")
        batch_op.drop_column("patient_reached")
        batch_op.drop_column("talk_seconds")
        batch_op.drop_column("calls_count")
        batch_op.drop_column("figures_at")
