"""Kind ``merchant_feed``: the kind (``connector``), the feed formats (``formats``), the shop
helpers shared with ``shopify`` and ``woocommerce`` (``shop``) and value parsing (``values``)."""
