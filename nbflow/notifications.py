"""Luigi compatibility: re-exports only, at Luigi's path ``luigi.notifications``.

Holds the failure e-mail settings (``email``, ``smtp``, ``sendgrid``), the message
builders and the senders. The code lives in nbflow.core.notifications; nbflow's own
modules import it from there, never from here (tests/test_luigi_compat.py checks both).

Importing this module gives nbflow.core.notifications itself (the last line puts it in
``sys.modules`` under this name): Luigi users' tests patch the senders here, as in
``mock.patch("luigi.notifications.send_error_email")``, and the patch must reach the
code that calls them. The names below are for readers and type checkers.
"""

from __future__ import annotations

import sys

from nbflow.core import notifications as _implementation
from nbflow.core.notifications import (
    DEBUG,
    DEFAULT_CLIENT_EMAIL,
    TestNotificationsTask,
    _email_disabled_reason,  # noqa: F401 - Luigi's private names, which its tests use
    _email_recipients,  # noqa: F401
    _prefix,  # noqa: F401
    email,
    format_task_error,
    generate_email,
    send_email,
    send_email_sendgrid,
    send_email_ses,
    send_email_smtp,
    send_email_sns,
    send_error_email,
    sendgrid,
    smtp,
    wrap_traceback,
)

__all__ = [
    "DEBUG",
    "DEFAULT_CLIENT_EMAIL",
    "TestNotificationsTask",
    "email",
    "format_task_error",
    "generate_email",
    "send_email",
    "send_email_sendgrid",
    "send_email_ses",
    "send_email_smtp",
    "send_email_sns",
    "send_error_email",
    "sendgrid",
    "smtp",
    "wrap_traceback",
]

sys.modules[__name__] = _implementation
