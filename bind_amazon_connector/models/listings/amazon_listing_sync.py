from odoo import api, models


class AmazonListingSync(models.AbstractModel):
    """The listings flow: Amazon's listings report read and mapped to products."""

    _name = "amazon.listing.sync"
    _description = "Amazon Listings Synchronization"

    @api.model
    def _cron_dispatch(self):
        """Scheduled action of the flow: trigger the job of each connection with work for it."""
        return self.env["amazon.account"]._cron_import_listings()

    @api.model
    def _sync_for(self, account, *, commit=False, deadline=None):
        """One run of the flow for ``account`` (see ``amazon.sync.job._pages``)."""
        return account._sync_run_listings(commit=commit, deadline=deadline)
