# The SP-API layer (spapi/) and utils/ are plain Python and must import without Odoo (plain tests, the
# development simulator); the Odoo parts load only when Odoo imports the addon as odoo.addons.bind_amazon_connector.
if __name__.startswith("odoo.addons."):
    from . import controllers, models, wizards

    def uninstall_hook(env):
        """The profitability report's triggers on Odoo's tables name the addon's columns: dropped first."""
        from .models.reporting import profit_store

        profit_store.uninstall(env.cr)
