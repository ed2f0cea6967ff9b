"""The deliveries and invoices the import creates keep their link to the sale order without Odoo's note saying so.

Odoo posts "This transfer / journal entry has been created from: S00042" on each of them, whatever the context.
The link is already the document's origin field and the sale order's buttons, and the Amazon order record is the
import's audit trail; rendered and posted twice per order, the notes cost the import about 6 % of its time.
"""
from odoo import models

#: Context key of the import (``QUIET_CONTEXT``): Odoo's "created from" notes are not posted.
NO_ORIGIN_NOTE = "amazon_no_origin_note"
ORIGIN_NOTE = "mail.message_origin_link"


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def message_post_with_source(self, source_ref, **kwargs):
        if isinstance(source_ref, str) and source_ref == ORIGIN_NOTE and self.env.context.get(NO_ORIGIN_NOTE):
            return self.env["mail.message"]
        return super().message_post_with_source(source_ref, **kwargs)
