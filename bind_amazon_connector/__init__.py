# The SP-API layer (spapi/) and utils/ are plain Python and must import without Odoo (plain tests, the
# development simulator); the Odoo parts load only when Odoo imports the addon as odoo.addons.bind_amazon_connector.
if __name__.startswith("odoo.addons."):
    from . import controllers, models, wizards
