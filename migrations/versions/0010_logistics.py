"""logistics: partners, API keys, webhook secrets, shops' carrier choices, shipments and their
events, the order feed's change log and its counter, webhook deliveries, COD remittances; orders
gain the parcel states delivery_failed, returning, returned, lost and damaged

Revision ID: 0010_logistics
Revises: 0009_fix_money
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_logistics'
down_revision = '0009_fix_money'
branch_labels = None
depends_on = None


OLD_STATUSES = (
    "pending_payment",
    "placed",
    "confirmed",
    "packed",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "refunded",
)
NEW_STATUSES = OLD_STATUSES + ("delivery_failed", "returning", "returned", "lost", "damaged")


def _status_check(statuses) -> str:
    return "status IN (" + ",".join(f"'{s}'" for s in statuses) + ")"


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_status"), _status_check(NEW_STATUSES))
    op.create_table('logistics_feed_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_feed_counter'))
    )
    counter = sa.table("logistics_feed_counter", sa.column("id", sa.Integer), sa.column("value", sa.BigInteger))
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    op.create_table('logistics_partners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('all_shops', sa.Boolean(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=True),
    sa.Column('webhook_disabled_at', sa.DateTime(), nullable=True),
    sa.Column('status_map', sa.JSON(), nullable=False),
    sa.Column('callback_token_hash', sa.String(length=64), nullable=True),
    sa.Column('tracking_url', sa.String(length=300), nullable=True),
    sa.Column('api_base_url', sa.String(length=300), nullable=True),
    sa.Column('credentials', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('generic','ghn','ghtk')", name=op.f('ck_logistics_partners_kind')),
    sa.CheckConstraint("state IN ('active','paused')", name=op.f('ck_logistics_partners_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_partners')),
    sa.UniqueConstraint('slug', name=op.f('uq_logistics_partners_slug'))
    )
    op.create_table('logistics_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=24), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_api_keys_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_logistics_api_keys_key_hash')),
    sa.UniqueConstraint('prefix', name=op.f('uq_logistics_api_keys_prefix'))
    )
    with op.batch_alter_table('logistics_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_api_keys_partner_id'), ['partner_id'], unique=False)

    op.create_table('logistics_remittances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('transfer_date', sa.Date(), nullable=False),
    sa.Column('total_vnd', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_remittances_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_remittances')),
    sa.UniqueConstraint('partner_id', 'reference', name=op.f('uq_logistics_remittances_partner_id_reference'))
    )
    op.create_table('logistics_webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=60), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('order_code', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending','delivered','failed','dead')", name=op.f('ck_logistics_webhook_deliveries_status')),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_webhook_deliveries_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_webhook_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_logistics_webhook_deliveries_message_id'))
    )
    with op.batch_alter_table('logistics_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_logistics_webhook_deliveries_partner_status', ['partner_id', 'status'], unique=False)

    op.create_table('logistics_webhook_secrets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_webhook_secrets_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_webhook_secrets'))
    )
    with op.batch_alter_table('logistics_webhook_secrets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_webhook_secrets_partner_id'), ['partner_id'], unique=False)

    op.create_table('logistics_partner_shops',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_partner_shops_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_logistics_partner_shops_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partner_id', 'shop_id', name=op.f('pk_logistics_partner_shops'))
    )
    op.create_table('logistics_shop_partners',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_shop_partners_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_logistics_shop_partners_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'partner_id', name=op.f('pk_logistics_shop_partners'))
    )
    op.create_table('logistics_feed_changes',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('order.ready_for_pickup','order.updated','order.cancelled')", name=op.f('ck_logistics_feed_changes_kind')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_logistics_feed_changes_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_feed_changes_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_logistics_feed_changes'))
    )
    with op.batch_alter_table('logistics_feed_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_feed_changes_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_logistics_feed_changes_partner_seq', ['partner_id', 'seq'], unique=False)

    op.create_table('logistics_remittance_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('remittance_id', sa.Integer(), nullable=False),
    sa.Column('order_code', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('amount_vnd', sa.Integer(), nullable=False),
    sa.Column('problem', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_logistics_remittance_lines_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['remittance_id'], ['logistics_remittances.id'], name=op.f('fk_logistics_remittance_lines_remittance_id_logistics_remittances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_logistics_remittance_lines_shop_id_shops'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_remittance_lines'))
    )
    with op.batch_alter_table('logistics_remittance_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_remittance_lines_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_remittance_lines_remittance_id'), ['remittance_id'], unique=False)

    op.create_table('logistics_shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=80), nullable=True),
    sa.Column('fee_vnd', sa.Integer(), nullable=True),
    sa.Column('weight_g', sa.Integer(), nullable=False),
    sa.Column('length_cm', sa.Integer(), nullable=False),
    sa.Column('width_cm', sa.Integer(), nullable=False),
    sa.Column('height_cm', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('booking', sa.String(length=20), nullable=False),
    sa.Column('booking_error', sa.Text(), nullable=True),
    sa.Column('last_event_at', sa.DateTime(), nullable=True),
    sa.Column('attention', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_logistics_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_shipments_partner_id_logistics_partners'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_shipments')),
    sa.UniqueConstraint('order_id', name=op.f('uq_logistics_shipments_order_id'))
    )
    with op.batch_alter_table('logistics_shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_shipments_partner_id'), ['partner_id'], unique=False)

    op.create_table('logistics_shipment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=120), nullable=False),
    sa.Column('carrier_status', sa.String(length=60), nullable=False),
    sa.Column('floor_status', sa.String(length=30), nullable=True),
    sa.Column('unknown', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('tracking_code', sa.String(length=80), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('cod_collected_vnd', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['logistics_partners.id'], name=op.f('fk_logistics_shipment_events_partner_id_logistics_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['logistics_shipments.id'], name=op.f('fk_logistics_shipment_events_shipment_id_logistics_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_shipment_events')),
    sa.UniqueConstraint('partner_id', 'event_id', name=op.f('uq_logistics_shipment_events_partner_id_event_id'))
    )
    with op.batch_alter_table('logistics_shipment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_shipment_events_shipment_id'), ['shipment_id'], unique=False)



def downgrade():
    # Orders in a parcel state go back to the nearest state the older code knows.
    orders = sa.table("orders", sa.column("status", sa.String))
    for new, old in (
        ("delivery_failed", "shipped"),
        ("returning", "shipped"),
        ("returned", "cancelled"),
        ("lost", "shipped"),
        ("damaged", "shipped"),
    ):
        op.execute(orders.update().where(orders.c.status == new).values(status=old))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_orders_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_orders_status"), _status_check(OLD_STATUSES))
    with op.batch_alter_table('logistics_shipment_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_shipment_events_shipment_id'))

    op.drop_table('logistics_shipment_events')
    with op.batch_alter_table('logistics_shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_shipments_partner_id'))

    op.drop_table('logistics_shipments')
    with op.batch_alter_table('logistics_remittance_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_remittance_lines_remittance_id'))
        batch_op.drop_index(batch_op.f('ix_logistics_remittance_lines_order_id'))

    op.drop_table('logistics_remittance_lines')
    with op.batch_alter_table('logistics_feed_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_logistics_feed_changes_partner_seq')
        batch_op.drop_index(batch_op.f('ix_logistics_feed_changes_order_id'))

    op.drop_table('logistics_feed_changes')
    op.drop_table('logistics_shop_partners')
    op.drop_table('logistics_partner_shops')
    with op.batch_alter_table('logistics_webhook_secrets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_webhook_secrets_partner_id'))

    op.drop_table('logistics_webhook_secrets')
    with op.batch_alter_table('logistics_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_logistics_webhook_deliveries_partner_status')

    op.drop_table('logistics_webhook_deliveries')
    op.drop_table('logistics_remittances')
    with op.batch_alter_table('logistics_api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_api_keys_partner_id'))

    op.drop_table('logistics_api_keys')
    op.drop_table('logistics_partners')
    op.drop_table('logistics_feed_counter')
