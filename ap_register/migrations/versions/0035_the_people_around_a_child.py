"""the people around a child: parents, carers and the professionals who work with them

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 18:30:00

A child's contacts become one table: each parent or carer (relationship, parental responsibility
and whether the child lives with them, as separate facts: Education Act 1996 s576, Children Act
1989 ss2-3), the social worker, the virtual school head (Children Act 1989 s22(3B)), a setting's
SENCo and key worker; with phone, email, the way they ask to be contacted, and any restriction.
The parents each pupil held (`pupil.parents`, a name and an address each) move into it, in their
order, with the other facts not known, for the LA's officers only (`audience` 'la', as they were:
the school and providers read a contact only when it is shared with them); the column goes.

Down: each child's parents and carers go back into `pupil.parents` (name and address, in the order
they were added) and the table goes, with everything else it held (phones, emails, professionals).
"""

import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade():
    contact = op.create_table(
        'pupil_contact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pupil_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('relation', sa.String(length=30), nullable=True),
        sa.Column('organisation', sa.String(length=200), nullable=True),
        sa.Column('setting_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=400), nullable=True),
        sa.Column('phone', sa.String(length=30), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('parental_responsibility', sa.Boolean(), nullable=True),
        sa.Column('lives_with', sa.Boolean(), nullable=True),
        sa.Column('contact_by', sa.String(length=10), nullable=True),
        sa.Column('preferences', sa.String(length=400), nullable=True),
        sa.Column('restriction', sa.String(length=400), nullable=True),
        sa.Column('audience', sa.String(length=10), server_default='all', nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pupil_id'], ['pupil.id'], name=op.f('fk_pupil_contact_pupil_id_pupil')),
        sa.ForeignKeyConstraint(['setting_id'], ['setting.id'], name=op.f('fk_pupil_contact_setting_id_setting')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pupil_contact')),
    )
    with op.batch_alter_table('pupil_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pupil_contact_pupil_id'), ['pupil_id'], unique=False)
    bind = op.get_bind()
    pupil = sa.table('pupil', sa.column('id', sa.Integer()), sa.column('parents', sa.JSON()))
    rows = []
    for pupil_id, parents in bind.execute(
        sa.select(pupil.c.id, pupil.c.parents).where(pupil.c.parents.is_not(None)).order_by(pupil.c.id)
    ):
        if isinstance(parents, str):
            parents = json.loads(parents)
        for parent in parents or []:
            if parent.get('name'):
                rows.append({'pupil_id': pupil_id, 'name': parent['name'][:200], 'address': parent.get('address')})
    if rows:
        stamp = datetime.now(timezone.utc)
        op.bulk_insert(
            contact,
            [{**row, 'role': 'parent_carer', 'relation': 'not_known', 'audience': 'la', 'added_at': stamp,
              'changed_at': stamp} for row in rows],
        )
    op.drop_column('pupil', 'parents')


def downgrade():
    op.add_column('pupil', sa.Column('parents', sa.JSON(), nullable=True))
    bind = op.get_bind()
    contact = sa.table(
        'pupil_contact',
        sa.column('id', sa.Integer()),
        sa.column('pupil_id', sa.Integer()),
        sa.column('role', sa.String()),
        sa.column('name', sa.String()),
        sa.column('address', sa.String()),
    )
    pupil = sa.table('pupil', sa.column('id', sa.Integer()), sa.column('parents', sa.JSON()))
    parents: dict[int, list[dict[str, str | None]]] = {}
    for pupil_id, name, address in bind.execute(
        sa.select(contact.c.pupil_id, contact.c.name, contact.c.address)
        .where(contact.c.role == 'parent_carer')
        .order_by(contact.c.pupil_id, contact.c.id)
    ):
        parents.setdefault(pupil_id, []).append({'name': name, 'address': address})
    for pupil_id, held in parents.items():
        bind.execute(sa.update(pupil).where(pupil.c.id == pupil_id).values(parents=held))
    with op.batch_alter_table('pupil_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pupil_contact_pupil_id'))
    op.drop_table('pupil_contact')
