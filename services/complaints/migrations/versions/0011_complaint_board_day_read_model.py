"""complaint board day read model

The governor's board's per-agency, per-WIB-day sums (domain/board.py), back-filled from the
complaints and deadlines already stored so an existing database keeps a correct board. The
back-fill applies the very rules the write side applies (`contribution`), row by row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grms_kit.tables
from grms_complaints.domain import board as rules

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a later change of buckets is a new migration that rebuilds the sums.
COUNTS = ("received", "responded", "sla_decided", "sla_met", "answered", "breached")
MEASURES = COUNTS + tuple(f"fr_{i:02d}" for i in range(32))
OPEN_MEASURES = ("open", "overdue")
UNMARKED = (
    "kind <> 'auto_close' AND met_at IS NULL AND cancelled_at IS NULL AND (breached_at IS NULL OR breached_at <= due_at)"
)
OPEN_UNMERGED = "merged_into IS NULL AND status IN ('assigned', 'in_progress', 'received', 'responded', 'verified')"
BATCH = 5000


def upgrade() -> None:
    assert (MEASURES, OPEN_MEASURES) == (rules.MEASURES, rules.OPEN_MEASURES), "the back-fill follows the rules"
    op.create_table(
        'complaint_board_day',
        sa.Column('government_code', sa.String(length=20), nullable=False),
        sa.Column('agency_code', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('shard', sa.SmallInteger(), server_default='0', nullable=False),
        *(sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in MEASURES),
        sa.PrimaryKeyConstraint(
            'government_code', 'agency_code', 'day', 'shard', name=op.f('pk_complaint_board_day')
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('complaint_board_day', schema=None) as batch_op:
        batch_op.create_index(
            'ix_complaint_board_day_day',
            ['government_code', 'day', 'agency_code', 'received', 'answered', 'breached'],
            unique=False,
        )
    op.create_table(
        'complaint_board_open',
        sa.Column('government_code', sa.String(length=20), nullable=False),
        sa.Column('agency_code', sa.String(length=40), nullable=False),
        sa.Column('shard', sa.SmallInteger(), server_default='0', nullable=False),
        *(sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in OPEN_MEASURES),
        sa.PrimaryKeyConstraint('government_code', 'agency_code', 'shard', name=op.f('pk_complaint_board_open')),
    )
    unmerged = sa.text('merged_into IS NULL')
    open_unmerged = sa.text(OPEN_UNMERGED)
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(
            'ix_complaint_board_first_response',
            ['government_code', 'agency_code', 'first_response_minutes', 'received_at'],
            unique=False,
            sqlite_where=unmerged,
            postgresql_where=unmerged,
        )
        batch_op.create_index(
            'ix_complaint_board_first_response_all',
            ['government_code', 'first_response_minutes', 'received_at', 'agency_code'],
            unique=False,
            sqlite_where=unmerged,
            postgresql_where=unmerged,
        )
        batch_op.create_index(
            'ix_complaint_board_open',
            ['government_code', 'agency_code', 'received_at', 'ticket_id'],
            unique=False,
            sqlite_where=open_unmerged,
            postgresql_where=open_unmerged,
        )
    unmarked = sa.text(UNMARKED)
    with op.batch_alter_table('sla_deadline', schema=None) as batch_op:
        batch_op.create_index(
            'ix_sla_deadline_unmarked',
            ['due_at', 'ticket_id'],
            unique=False,
            sqlite_where=unmarked,
            postgresql_where=unmarked,
        )
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    stamp = grms_kit.tables.UtcDateTime
    complaint = sa.table(
        'complaint',
        sa.column('ticket_id', sa.String),
        sa.column('government_code', sa.String),
        sa.column('agency_code', sa.String),
        sa.column('received_at', stamp),
        sa.column('first_response_minutes', sa.Integer),
        sa.column('merged_into', sa.String),
        sa.column('status', sa.String),
    )
    deadline = sa.table(
        'sla_deadline',
        sa.column('ticket_id', sa.String),
        sa.column('kind', sa.String),
        sa.column('due_at', stamp),
        sa.column('met_at', stamp),
        sa.column('cancelled_at', stamp),
        sa.column('breached_at', stamp),
    )
    day_table = sa.table(
        'complaint_board_day',
        sa.column('government_code', sa.String),
        sa.column('agency_code', sa.String),
        sa.column('day', sa.Date),
        *(sa.column(name, sa.Integer) for name in MEASURES),
    )
    open_table = sa.table(
        'complaint_board_open',
        sa.column('government_code', sa.String),
        sa.column('agency_code', sa.String),
        *(sa.column(name, sa.Integer) for name in OPEN_MEASURES),
    )
    sums: dict[tuple[str, str, object], dict[str, int]] = {}
    open_now: dict[tuple[str, str], dict[str, int]] = {}
    open_statuses = {s.value for s in rules.OPEN_STATUSES}
    last = ''
    while True:  # in chunks of complaints by ticket id, with their deadlines: memory stays bounded
        chunk = list(
            bind.execute(
                sa.select(complaint).where(complaint.c.ticket_id > last).order_by(complaint.c.ticket_id).limit(BATCH)
            )
        )
        if not chunk:
            break
        deadlines: dict[str, list[rules.BoardDeadline]] = {}
        in_chunk = sa.and_(deadline.c.ticket_id > last, deadline.c.ticket_id <= chunk[-1].ticket_id)
        for r in bind.execute(sa.select(deadline).where(in_chunk)):
            deadlines.setdefault(r.ticket_id, []).append(
                rules.BoardDeadline(r.kind, r.due_at, r.met_at, r.cancelled_at, r.breached_at)
            )
        last = chunk[-1].ticket_id
        for r in chunk:
            facts = rules.BoardFacts(
                agency_code=r.agency_code,
                received_at=r.received_at,
                first_response_minutes=r.first_response_minutes,
                merged=r.merged_into is not None,
                deadlines=tuple(deadlines.get(r.ticket_id, ())),
                is_open=r.status in open_statuses,
            )
            for (agency, day, measure), n in rules.contribution(facts).items():
                if day is None:
                    row = open_now.setdefault((r.government_code, agency), dict.fromkeys(OPEN_MEASURES, 0))
                else:
                    row = sums.setdefault((r.government_code, agency, day), dict.fromkeys(MEASURES, 0))
                row[measure] += n
    rows = [
        {'government_code': g, 'agency_code': a, 'day': d, **values} for (g, a, d), values in sorted(sums.items())
    ]
    for i in range(0, len(rows), BATCH):
        bind.execute(sa.insert(day_table), rows[i : i + BATCH])
    if open_now:
        bind.execute(
            sa.insert(open_table),
            [{'government_code': g, 'agency_code': a, **values} for (g, a), values in sorted(open_now.items())],
        )


def downgrade() -> None:
    with op.batch_alter_table('sla_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_deadline_unmarked')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_board_open')
        batch_op.drop_index('ix_complaint_board_first_response_all')
    op.drop_table('complaint_board_open')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_board_first_response')
    with op.batch_alter_table('complaint_board_day', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_board_day_day')
    op.drop_table('complaint_board_day')
