"""What can go wrong talking to Amazon, grouped by what the caller should do next.

Messages are plain language for a seller and never contain secrets or buyer data.
"""


class SpApiError(Exception):
    """Base of every error raised by the SP-API layer."""

    #: True when the same call may succeed later without anyone changing anything.
    retryable = False

    def __init__(self, message, *, operation=None, status=None, amazon_code=None):
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.amazon_code = amazon_code

    def __str__(self):
        return self.message


class RetryLater(SpApiError):
    """Amazon is throttling, down, slow or unreachable: try again later.

    ``retry_after`` (seconds, or None) is the earliest moment a new attempt makes sense, when known
    (for example the time the usage plan needs to refill). ``maybe_done``: the answer was lost after Amazon
    may have acted on the call (a timeout, a dropped connection, a 500): check before sending it again.
    """

    retryable = True

    def __init__(self, message, *, retry_after=None, maybe_done=False, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.maybe_done = maybe_done


class AuthorizationError(SpApiError):
    """Credentials are wrong, expired or revoked: re-authorize the connection."""


class ConfigurationError(SpApiError):
    """The connection is set up wrongly (unknown region or marketplace, missing app credentials)."""


class BadData(SpApiError):
    """Amazon answered, but not with what its model promises, or refused our data: fix the data."""


class NotFound(BadData):
    """Amazon does not know the requested object (HTTP 404): an order, SKU or report that does not exist."""
