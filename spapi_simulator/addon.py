"""The addon's SP-API constants the simulator serves (marketplaces, carriers, usage plans), wherever the addon is.

Installed with ``pip install .``, the addon is ``odoo.addons.bind_amazon_connector``; in the repository's plain
suite (its root on the path, Odoo's addons not configured) it is ``bind_amazon_connector``.
"""
try:
    from odoo.addons.bind_amazon_connector.spapi import carriers, marketplaces, usage_plans
except ImportError:
    from bind_amazon_connector.spapi import carriers, marketplaces, usage_plans

__all__ = ["carriers", "marketplaces", "usage_plans"]
