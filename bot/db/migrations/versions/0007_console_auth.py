"""console auth: TOTP, failed logins, lock-out, session cut-off; failures per address

Revision ID: 0007
Revises: 0006

The staff console signs people in with a password and, for some roles, a TOTP code. Failed
attempts slow the next one down (per account on `staff`, per client address in
`loginfailure`, shared by every process); `sessions_valid_after` voids older sessions.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(length=64),
                                   nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("last_failed_login_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
        batch.add_column(sa.Column("locked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("sessions_valid_after", sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
    op.create_table(
        "loginfailure",
        sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ip"),
    )


def downgrade() -> None:
    op.drop_table("loginfailure")
    with op.batch_alter_table("staff") as batch:
        for column in ("sessions_valid_after", "locked_at", "last_failed_login_at",
                       "failed_logins", "totp_secret"):
            batch.drop_column(column)
