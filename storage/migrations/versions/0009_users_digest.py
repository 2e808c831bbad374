"""users.digest_time and users.digest_last_date: the morning digest's local time per user
(NULL: the role's default, "off": none) and the last local date whose digest is settled,
the mark that keeps it to once a day across restarts and replicas.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("digest_last_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("digest_last_date")
        batch_op.drop_column("digest_time")
