"""a recorded call keeps its method and the new-account compliance answers

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbackattempt") as batch:
        batch.add_column(sa.Column("method", sa.String(length=8), nullable=False,
                                   server_default="phone"))
        batch.add_column(sa.Column("answers", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callbackattempt") as batch:
        batch.drop_column("answers")
        batch.drop_column("method")
