"""early status keeps the adapter's reading of a report

Revision ID: 0005
Revises: 0004

A status report kept until its send is recorded now carries what the adapter read into it
(permanent failure, address unusable), so applying it later needs no provider's codes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("earlystatus") as batch:
        batch.add_column(sa.Column("permanent_failure", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("address_unusable", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("earlystatus") as batch:
        batch.drop_column("address_unusable")
        batch.drop_column("permanent_failure")
