"""Who may do what in the connector, shared by every flow.

- :func:`check_group`: the first line of every public method (``action_*``, anything callable by RPC). The
  record rules and access rights still apply on top; superuser code paths (the connector's own) pass.
- :func:`internal_context`: context keys that change how the connector behaves (pacing, polling, the
  connection paying an invoice...) are honoured from the shell, scheduled actions and tests, never from an
  RPC call, whose context the caller writes.
- :func:`loopback_allowed`: the simulator on this machine is a developer's tool, reachable only when Odoo
  runs in development mode (``--dev``) or runs its tests.
"""
from odoo.exceptions import AccessError
from odoo.http import request
from odoo.modules import module
from odoo.tools import config

AMAZON_USER = "bind_amazon_connector.group_amazon_user"
AMAZON_MANAGER = "bind_amazon_connector.group_amazon_manager"
ACCOUNTANT = "account.group_account_invoice"
SYSTEM = "base.group_system"


def check_group(env, *xmlids, message=None):
    """Raise AccessError unless the environment is superuser or its user has one of the groups ``xmlids``."""
    if env.su or any(env.user.has_group(xmlid) for xmlid in xmlids):
        return
    if not message:
        groups = [env.ref(xmlid, raise_if_not_found=False) for xmlid in xmlids]
        message = env._("This action is reserved to: %s.",
                        ", ".join(g.sudo().full_name if g else x for g, x in zip(groups, xmlids, strict=True)))
    raise AccessError(message)


def is_trusted_writer(env):
    """Superuser code (the synchronisations) or a system administrator, who may change anything anyway."""
    return env.su or env.user._is_system()


def in_test():
    return bool(module.current_test) or bool(config["test_enable"])


def loopback_allowed():
    return bool(config["dev_mode"]) or in_test()


def internal_context(env, key, default=None):
    """``env.context[key]`` when the call does not come from a web request (shell, cron, tests), else default."""
    if request and not in_test():
        return default
    return env.context.get(key, default)
