"""consultations.wizard_draft: the wizard run that made a start, so a second Confirm of
the same run (after a crash mid-call, the summary still on screen) is refused.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wizard_draft", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_consultations_wizard_draft"), ["wizard_draft"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultations_wizard_draft"))
        batch_op.drop_column("wizard_draft")
