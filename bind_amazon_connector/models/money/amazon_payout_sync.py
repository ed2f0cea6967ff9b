from odoo import api, models


class AmazonPayoutSync(models.AbstractModel):
    """The payouts flow: Amazon's financial transactions read and booked."""

    _name = "amazon.payout.sync"
    _description = "Amazon Payouts Synchronization"

    @api.model
    def _cron_dispatch(self):
        """Scheduled action of the flow: trigger the job of each connection with work for it."""
        return self.env["amazon.account"]._cron_sync_finances()

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """One run of the flow for ``account`` (see ``amazon.sync.job._pages``)."""
        return account._sync_run_money(commit=commit, deadline=deadline)
