"""What a person is told about an SP-API error: a translated sentence saying what to do, then the layer's detail.

The SP-API layer is plain Python and speaks English; the person reading this speaks Spanish first. Its
messages never hold secrets, so they are kept as the technical detail.
"""
from ...spapi import errors


def spapi_error_message(env, exc, authorization_code=False):
    """The sentence for ``exc``; ``authorization_code``: it came from exchanging the code of the Authorize flow."""
    if isinstance(exc, errors.RetryLater):
        text = env._("Amazon is not answering right now (busy, down or unreachable): try again in a few minutes.")
    elif isinstance(exc, errors.AuthorizationError) and authorization_code:
        text = env._("Amazon did not accept the authorization code: a code works once and for five minutes. Click "
                     "Authorize again.")
    elif isinstance(exc, errors.AuthorizationError):
        text = env._("Amazon refused this connection's authorization (revoked or expired): authorize the "
                     "connection again.")
    elif isinstance(exc, errors.ConfigurationError):
        text = env._("Amazon does not accept the connection's settings: check the app credentials, the region "
                     "and the addresses in the Advanced tab.")
    elif isinstance(exc, errors.BadData):
        text = env._("Amazon answered with data the connector does not understand.")
    else:
        text = env._("Amazon returned an error.")
    detail = str(exc)
    return env._("%(text)s\nDetail: %(detail)s", text=text, detail=detail) if detail else text
