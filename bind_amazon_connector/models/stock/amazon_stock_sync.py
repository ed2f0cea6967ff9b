from odoo import api, models


class AmazonStockSync(models.AbstractModel):
    """The stock flow: the quantities waiting in amazon.stock.push sent to Amazon."""

    _name = "amazon.stock.sync"
    _description = "Amazon Stock Synchronization"

    @api.model
    def _cron_dispatch(self):
        """Scheduled action of the flow: trigger the job of each connection with work for it."""
        return self.env["amazon.account"]._cron_push_stock()

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """One run of the flow for ``account`` (see ``amazon.sync.job._pages``)."""
        return account._sync_run_stock(commit=commit, deadline=deadline)
