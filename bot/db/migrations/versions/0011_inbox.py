"""inbox: provider requests stored first, acted on afterwards in arrival order

Revision ID: 0011
Revises: 0010

Storing, matching, classifying and opening callbacks inside the webhook took 10 ms and more per
reply, so a storm queued past Twilio's 15 s timeout. The webhook now only stores the verified
request (one INSERT, deduplicated by MessageSid) and answers; a worker acts on the stored rows
in order. The stored row is the queue, so nothing is lost across a crash.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("provider_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("route", "provider_id"),
    )
    with op.batch_alter_table("inbox") as batch:
        batch.create_index(batch.f("ix_inbox_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_index(batch.f("ix_inbox_status"))
    op.drop_table("inbox")
