from odoo import api, models


class AmazonOrderSync(models.AbstractModel):
    """The orders flow: Amazon orders read page by page and imported as sales, deliveries and invoices."""

    _name = "amazon.order.sync"
    _description = "Amazon Orders Synchronization"

    @api.model
    def _cron_dispatch(self):
        """Scheduled action of the flow: trigger the job of each connection with work for it."""
        return self.env["amazon.account"]._cron_sync_orders()

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """One run of the flow for ``account`` (see ``amazon.sync.job._pages``)."""
        return account._sync_run_orders(commit=commit, deadline=deadline)
