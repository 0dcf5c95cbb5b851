"""Luigi's ``luigi.notifications``: failure e-mails, their settings and their senders.

Settings come from three config classes, read like any :class:`~nbflow.core.task.Config`
(config sections, ``--email-receiver`` style flags), with Luigi's older ``[core]`` keys
as fallbacks:

- ``[email]``: ``receiver`` (who gets error e-mails; none means none are sent),
  ``sender``, ``prefix`` (put before every subject), ``format`` (``plain``, ``html`` or
  ``none``, which turns e-mail off), ``method`` (``smtp``, ``ses``, ``sendgrid`` or
  ``sns``), ``force_send`` (send even when standard output is a terminal, where
  nothing is sent by default), ``traceback_max_length``;
- ``[smtp]``: ``host``, ``port``, ``ssl``, ``no_tls``, ``username``, ``password``,
  ``local_hostname``, ``timeout``;
- ``[sendgrid]``: ``apikey``.

:func:`send_error_email` is the entry point: it adds the configured receiver, and
:func:`send_email` decides whether to send and dispatches on ``[email] method``.
SMTP uses the standard library; SES and SNS need ``boto3``, SendGrid ``sendgrid``,
imported only when used. Sending never raises for an unreachable SMTP server: the
error is logged, once until the server works again, so a failing e-mail cannot fail a
run. ``DEBUG`` (Luigi's name) set to True keeps e-mails from being sent, as from a
terminal, unless ``[email] force_send``.

Runs call none of this in their own thread: :mod:`nbflow.core.failure_notifier` decides
what a failure deserves and sends it from a background thread; batched e-mails are
:mod:`nbflow.core.batch_notifier`'s.

Imports: stdlib, nbflow.core.{parameter, task}; boto3, sendgrid and pygments lazily.
"""

from __future__ import annotations

import html
import importlib
import logging
import socket
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.core.parameter import (
    BoolParameter,
    ChoiceParameter,
    FloatParameter,
    IntParameter,
    OptionalParameter,
    Parameter,
)
from nbflow.core.task import Config, Task

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from email.mime.multipart import MIMEMultipart

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

logger = logging.getLogger(__name__)

#: Luigi's debug switch: while True, e-mails are not sent (as from a terminal) unless
#: ``[email] force_send``.
DEBUG = False

#: The sender of e-mails when ``[email] sender`` is not set.
DEFAULT_CLIENT_EMAIL = f"nbflow-client@{socket.gethostname()}"
#: SNS subjects are cut to this many characters (SNS's limit).
SNS_SUBJECT_MAX = 100


class TestNotificationsTask(Task):
    """A task that always fails, to check the e-mail settings.

    ``nbflow run TestNotificationsTask --email-force-send`` should send an e-mail.
    """

    __test__ = False  # not a pytest test class, despite its name

    raise_in_complete = BoolParameter(
        default=False, description="Fail in complete() instead of in run()."
    )

    def run(self) -> None:
        """Fail, so that a failure e-mail is sent."""
        raise ValueError(self._failure)

    def complete(self) -> bool:
        """Fail when ``raise_in_complete``; otherwise the task is never complete."""
        if self.raise_in_complete:
            raise ValueError(self._failure)
        return False

    _failure = "Testing notifications triggering"


class email(Config):  # noqa: N801 - Luigi's section name, [email]
    """Who receives failure e-mails, and how they are written and sent."""

    force_send = BoolParameter(
        default=False, description="Send e-mails even when run from a terminal."
    )
    format = ChoiceParameter(
        default="plain",
        choices=("plain", "html", "none"),
        config_path={"section": "core", "name": "email-type"},
        description="Format of e-mails; 'none' sends none.",
    )
    method = ChoiceParameter(
        default="smtp",
        choices=("smtp", "sendgrid", "ses", "sns"),
        config_path={"section": "email", "name": "type"},
        description="How e-mails are sent.",
    )
    prefix = Parameter(
        default="",
        config_path={"section": "core", "name": "email-prefix"},
        description="Put before the subject of every e-mail.",
    )
    receiver = Parameter(
        default="",
        config_path={"section": "core", "name": "error-email"},
        description="Where failure e-mails go (comma-separated addresses).",
    )
    traceback_max_length = IntParameter(
        default=5000, description="Longest traceback put in an e-mail."
    )
    sender = Parameter(
        default=DEFAULT_CLIENT_EMAIL,
        config_path={"section": "core", "name": "email-sender"},
        description="The From address of e-mails.",
    )


class smtp(Config):  # noqa: N801 - Luigi's section name, [smtp]
    """The SMTP server that sends e-mails when ``[email] method`` is ``smtp``."""

    host = Parameter(
        default="localhost",
        config_path={"section": "core", "name": "smtp_host"},
        description="Host name of the SMTP server.",
    )
    local_hostname = OptionalParameter(
        default=None,
        config_path={"section": "core", "name": "smtp_local_hostname"},
        description="This host's name in the HELO/EHLO command.",
    )
    no_tls = BoolParameter(
        default=False,
        config_path={"section": "core", "name": "smtp_without_tls"},
        description="Do not upgrade the connection with STARTTLS.",
    )
    password = OptionalParameter(
        default=None,
        config_path={"section": "core", "name": "smtp_password"},
        description="Password of the SMTP login.",
    )
    port = IntParameter(
        default=0,
        config_path={"section": "core", "name": "smtp_port"},
        description="Port of the SMTP server (0: the protocol's default).",
    )
    ssl = BoolParameter(
        default=False,
        config_path={"section": "core", "name": "smtp_ssl"},
        description="Connect with SSL from the start (SMTP_SSL).",
    )
    timeout = FloatParameter(
        default=10.0,
        config_path={"section": "core", "name": "smtp_timeout"},
        description="Seconds before the connection times out.",
    )
    username = OptionalParameter(
        default=None,
        config_path={"section": "core", "name": "smtp_login"},
        description="User name of the SMTP login.",
    )


class sendgrid(Config):  # noqa: N801 - Luigi's section name, [sendgrid]
    """The SendGrid account that sends e-mails when ``[email] method`` is ``sendgrid``."""

    apikey = Parameter(
        config_path={"section": "email", "name": "SENGRID_API_KEY"},
        description="SendGrid API key.",
    )


def generate_email(
    sender: str,
    subject: str,
    message: str,
    recipients: Iterable[str],
    image_png: str | None,
) -> MIMEMultipart:
    """Return the e-mail as a MIME message, with the PNG at ``image_png`` attached."""
    from email.mime.image import MIMEImage  # noqa: PLC0415 - only when sending
    from email.mime.multipart import MIMEMultipart  # noqa: PLC0415
    from email.mime.text import MIMEText  # noqa: PLC0415

    root = MIMEMultipart("related")
    subtype = "html" if email().format == "html" else "plain"
    root.attach(MIMEText(message, subtype, "utf-8"))
    if image_png:
        root.attach(MIMEImage(Path(image_png).read_bytes(), "png"))
    root["Subject"] = subject
    root["From"] = sender
    root["To"] = ",".join(recipients)
    return root


def wrap_traceback(traceback: str) -> str:
    """Return ``traceback`` ready for the e-mail body: highlighted HTML in html format.

    Highlighting uses pygments when it is installed, else an escaped ``<pre>`` block.
    """
    if email().format != "html":
        return traceback
    try:
        pygments = importlib.import_module("pygments")
        formatters = importlib.import_module("pygments.formatters")
        lexers = importlib.import_module("pygments.lexers")
    except ImportError:
        return f"<pre>{html.escape(traceback)}</pre>"
    formatter = formatters.HtmlFormatter(noclasses=True)
    highlighted: str = pygments.highlight(
        traceback, lexers.PythonTracebackLexer(), formatter
    )
    return highlighted


def send_email_smtp(
    sender: str,
    subject: str,
    message: str,
    recipients: list[str],
    image_png: str | None,
) -> None:
    """Send the e-mail through the ``[smtp]`` server; log (not raise) if unreachable."""
    import smtplib  # noqa: PLC0415 - only when sending

    settings = smtp()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "local_hostname": settings.local_hostname,
    }
    if settings.timeout:
        options["timeout"] = settings.timeout
    try:
        connect = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
        connection = connect(**options)
        try:
            connection.ehlo_or_helo_if_needed()
            if connection.has_extn("starttls") and not settings.no_tls:
                connection.starttls()
            if settings.username and settings.password:
                connection.login(settings.username, settings.password)
            root = generate_email(sender, subject, message, recipients, image_png)
            connection.sendmail(sender, recipients, root.as_string())
        finally:
            connection.quit()
    except OSError as error:  # socket errors: the run goes on without the e-mail
        _smtp_failed(settings.host, settings.port, error)
    else:
        _SMTP_FAILING.discard((settings.host, settings.port))


#: SMTP servers (host, port) whose last send failed: logged once until one works.
_SMTP_FAILING: set[tuple[str, int]] = set()


def _smtp_failed(host: str, port: int, error: OSError) -> None:
    """Log that the SMTP server failed: an error the first time, then quietly."""
    if (host, port) in _SMTP_FAILING:
        logger.debug("could not send e-mail through %s:%s again: %s", host, port, error)
        return
    _SMTP_FAILING.add((host, port))
    logger.error(
        "could not send e-mail through the SMTP server %s:%s: %s. Check the [smtp] "
        "settings. Runs are not affected; further failures of this server are not logged "
        "until it works again.",
        host,
        port,
        error,
    )


def send_email_ses(
    sender: str,
    subject: str,
    message: str,
    recipients: list[str],
    image_png: str | None,
) -> None:
    """Send the e-mail through AWS SES (boto3; credentials as boto3 finds them)."""
    client = importlib.import_module("boto3").client("ses")
    root = generate_email(sender, subject, message, recipients, image_png)
    response = client.send_raw_email(
        Source=sender, Destinations=recipients, RawMessage={"Data": root.as_string()}
    )
    logger.debug("message sent to SES: %s", response)


def send_email_sendgrid(
    sender: str,
    subject: str,
    message: str,
    recipients: list[str],
    image_png: str | None,
) -> None:
    """Send the e-mail through SendGrid, with the ``[sendgrid] apikey``."""
    library = importlib.import_module("sendgrid")
    client = library.SendGridAPIClient(sendgrid().apikey)
    mail = library.Mail(from_email=sender, to_emails=recipients, subject=subject)
    content_type = "text/html" if email().format == "html" else "text/plain"
    mail.add_content(message, content_type)
    if image_png:
        mail.add_attachment(image_png)
    client.send(mail)


def send_email_sns(
    sender: str,  # noqa: ARG001 - the senders' common signature
    subject: str,
    message: str,
    topic_ARN: list[str],  # noqa: N803 - Luigi's name
    image_png: str | None,  # noqa: ARG001
) -> None:
    """Publish the message to the AWS SNS topic whose ARN is the first recipient."""
    topic = importlib.import_module("boto3").resource("sns").Topic(topic_ARN[0])
    if len(subject) > SNS_SUBJECT_MAX:
        half = (SNS_SUBJECT_MAX - 3) // 2
        subject = f"{subject[:half]}...{subject[-half:]}"
    response = topic.publish(Subject=subject, Message=message)
    logger.debug("message sent to SNS: %s", response)


def _email_disabled_reason() -> str | None:
    """Return why e-mails are not sent now, or ``None`` when they are."""
    settings = email()
    if settings.format == "none":
        return "[email] format is 'none'"
    if settings.force_send:
        return None
    if DEBUG:
        return "notifications.DEBUG is set (set [email] force_send to send anyway)"
    if sys.stdout.isatty():
        return "running from a terminal (set [email] force_send to send anyway)"
    return None


def _senders() -> dict[str, Callable[[str, str, str, list[str], str | None], None]]:
    return {
        "ses": send_email_ses,
        "sendgrid": send_email_sendgrid,
        "smtp": send_email_smtp,
        "sns": send_email_sns,
    }


def send_email(
    subject: str,
    message: str,
    sender: str,
    recipients: Iterable[str | None],
    image_png: str | None = None,
) -> None:
    """Send an e-mail with ``[email] method``, unless there is nobody to send it to.

    The subject gets ``[email] prefix``. Nothing is sent without recipients, with
    ``[email] format = none``, or from a terminal unless ``[email] force_send``.
    Each recipient may hold several comma-separated addresses.
    """
    subject = _prefix(subject)
    given = [r for r in recipients if r]
    if not given:
        return
    reason = _email_disabled_reason()
    if reason:
        logger.info("not sending e-mail to %r: %s", given, reason)
        return
    addresses = [a.strip() for r in given for a in r.split(",") if a.strip()]
    logger.info("sending e-mail to %r", addresses)
    _senders()[email().method](sender, subject, message, addresses, image_png)


def _email_recipients(additional: str | Iterable[str] | None = None) -> list[str]:
    """Return ``[email] receiver`` (if set) followed by ``additional`` recipients."""
    receiver = email().receiver
    recipients = [receiver] if receiver else []
    if isinstance(additional, str):
        recipients.append(additional)
    elif additional:
        recipients.extend(additional)
    return recipients


def send_error_email(
    subject: str, message: str, additional_recipients: str | Iterable[str] | None = None
) -> None:
    """Send a failure e-mail to ``[email] receiver`` and ``additional_recipients``."""
    recipients = _email_recipients(additional_recipients)
    send_email(subject, message, email().sender, recipients)


def _prefix(subject: str) -> str:
    """Return ``subject`` with ``[email] prefix`` (and a space) before it, if set."""
    prefix = email().prefix
    return f"{prefix} {subject}" if prefix else subject


_PLAIN = textwrap.dedent("""\
    {headline}

    Name: {name}
    {link}
    Parameters:
    {params}

    Command line:
      {command}

    {traceback}
    """)

_HTML = textwrap.dedent("""
    <html>
    <body>
    <h2>{headline}</h2>
    {link}

    <table style="border-top: 1px solid black; border-bottom: 1px solid black">
    <thead>
    <tr><th>name</th><td>{name}</td></tr>
    </thead>
    <tbody>
    {params}
    </tbody>
    </table>

    <h2>Command line</h2>
    <pre>
    {command}
    </pre>

    <h2>Traceback</h2>
    {traceback}
    </body>
    </html>
    """)


def format_task_error(
    headline: str,
    task: Task,
    command: str,
    formatted_exception: str | None = None,
    *,
    link: str = "",
) -> str:
    """Return the body of a failure e-mail about ``task``, plain text or HTML.

    The traceback is cut to ``[email] traceback_max_length`` characters. In HTML every
    value is escaped. ``link``, if given, is the task's page in the visualiser.
    """
    limit = email().traceback_max_length
    traceback = formatted_exception or ""
    if len(traceback) > limit:
        traceback = f"{traceback[:limit]}...Traceback exceeds max length and has been truncated."
    traceback = wrap_traceback(traceback) if traceback else ""
    params = task.to_str_params()
    if email().format == "html":
        rows = "\n".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in params.items()
        )
        return _HTML.format(
            headline=html.escape(headline),
            name=html.escape(task.task_family),
            link=f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
            if link
            else "",
            params=rows,
            command=html.escape(command),
            traceback=traceback,
        )
    width = max([0, *map(len, params)])
    rows = "\n".join(f"  {k:{width}}: {v}" for k, v in params.items())
    return _PLAIN.format(
        headline=headline,
        name=task.task_family,
        link=f"\nIn the visualiser: {link}\n" if link else "",
        params=rows,
        command=command,
        traceback=traceback,
    )
