"""totp replay: the last accepted TOTP time step per staff member

Revision ID: 0009
Revises: 0008

A TOTP code stays valid for its 30-second step (and one step of drift either side), so
someone who saw it could sign in with it again. Remembering the step of the last accepted
code lets sign-in and enrolment refuse a code whose step is not newer.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("totp_last_step")
