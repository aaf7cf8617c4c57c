"""The outbox topics of syndication (a module of its own: the hooks name them without loading
the engine and its platform adapters)."""

LISTING = "syndication.listing"  # {listing_id}: fan out to the connections that carry it
SHOP = "syndication.shop"  # {shop_id}: every listing of the shop
PUSH = "syndication.push"  # {listing_id, connection_id}: bring one copy up to date
PULL = "syndication.pull_orders"  # {connection_id}: take the platform's new orders
BATCH = "syndication.batch"  # {connection_id}: the waiting prices and stocks, many SKUs a call
RECONCILE = "syndication.reconcile"  # {}: the nightly repair of drift
