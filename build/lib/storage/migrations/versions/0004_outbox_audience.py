"""outbox_messages.audience: whose right the sender re-checks at send time ("consultation":
patient data of its consultation, "admin": an alert; NULL: not checked).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 14:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows queued before this column are not re-checked (NULL), as they were not before.
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("audience")
