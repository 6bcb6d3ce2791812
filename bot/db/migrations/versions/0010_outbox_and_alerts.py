"""outbox and alerts: conversation answers and staff alerts are stored, then sent

Revision ID: 0010
Revises: 0009

Answers to customers and P0 alerts were sent inline, once: a crash or a provider outage lost
them. Now each is a message row with a `purpose` (reply | alert), written in the transaction
that decided it and sent by the dispatcher's outbox (retried, rate-limited, reconciled). An
alert remembers the manager's channels to move through and whether anyone received it.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("branch_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("targets", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("acknowledged_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["branch_code"], ["branch.code"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert") as batch:
        batch.create_index(batch.f("ix_alert_branch_code"), ["branch_code"], unique=False)
        batch.create_index(batch.f("ix_alert_status"), ["status"], unique=False)
    # Plain ADD COLUMN: a batch rebuild on SQLite would drop the message table's triggers.
    op.add_column("message", sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=8),
                                       nullable=True))
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a reference only inline
        op.execute("ALTER TABLE message ADD COLUMN alert_id INTEGER REFERENCES alert (id)")
    else:
        op.add_column("message", sa.Column("alert_id", sa.Integer(), nullable=True))
        op.create_foreign_key("message_alert_id_fkey", "message", "alert", ["alert_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("message_alert_id_fkey", "message", type_="foreignkey")
    op.drop_column("message", "alert_id")
    op.drop_column("message", "purpose")
    with op.batch_alter_table("alert") as batch:
        batch.drop_index(batch.f("ix_alert_status"))
        batch.drop_index(batch.f("ix_alert_branch_code"))
    op.drop_table("alert")
