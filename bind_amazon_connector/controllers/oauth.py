"""Amazon's redirect after the seller accepts the app in Seller Central (website authorization flow)."""
import logging
import re

from odoo import http
from odoo.http import request

from ..models.connection.amazon_oauth_state import OAUTH_CALLBACK_PATH, AmazonAuthorizationRefused

_logger = logging.getLogger(__name__)

#: Amazon's error text is shown back to the user and stored on the connection: keep a sentence, not a book.
MAX_AMAZON_ERROR = 300
_SENSITIVE_QUERY_RE = re.compile(r"((?:spapi_oauth_code|state)=)[^&\s\"]+")


class _RedactOAuthCallback(logging.Filter):
    """Keep the one-time authorization code and state out of the HTTP access log."""

    def filter(self, record):
        if record.args and any(isinstance(a, str) and OAUTH_CALLBACK_PATH in a for a in record.args):
            record.args = tuple(
                _SENSITIVE_QUERY_RE.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


_werkzeug_logger = logging.getLogger("werkzeug")
if not any(type(f).__name__ == _RedactOAuthCallback.__name__ for f in _werkzeug_logger.filters):
    _werkzeug_logger.addFilter(_RedactOAuthCallback())


class AmazonOAuthController(http.Controller):
    @http.route(OAUTH_CALLBACK_PATH, type="http", auth="user", methods=["GET"], readonly=False)
    def amazon_oauth_callback(self, state=None, spapi_oauth_code=None, selling_partner_id=None, **kwargs):
        """Check the state, exchange the code for a refresh token, go back to the connection's form."""
        args = request.httprequest.args
        if any(len(args.getlist(name)) > 1 for name in ("state", "spapi_oauth_code", "selling_partner_id")):
            # a parameter given twice: which one would Amazon have meant? Refuse rather than guess.
            state = None
        amazon_error = kwargs.get("error_description") or kwargs.get("error")
        if amazon_error:
            amazon_error = str(amazon_error)[:MAX_AMAZON_ERROR]
        try:
            account = request.env["amazon.oauth.state"]._complete(
                state, spapi_oauth_code, selling_partner_id=selling_partner_id, amazon_error=amazon_error,
            )
        except AmazonAuthorizationRefused as exc:
            _logger.info("Amazon authorization callback refused for user %s: %s", request.env.uid, exc.args[0])
            account = exc.account
            return request.render(
                "bind_amazon_connector.amazon_oauth_result",
                {
                    "message": exc.args[0],
                    "connection_name": account.name if account else False,
                    "back_url": account._get_form_url() if account else "/odoo",
                },
                status=400,
            )
        return request.redirect(account._get_form_url())
