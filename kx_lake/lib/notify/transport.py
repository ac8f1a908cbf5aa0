"""Two ways to deliver a built message: SMTP (smtplib; local aiosmtpd, a relay) and Amazon SES
(boto3 `send_email`, Simple content with Text and Html bodies).

Credentials: SMTP login values are passed in by the caller (read from environment variables named in
operations.yaml at send time); SES uses the standard AWS chain (AWS_ENDPOINT_URL reaches moto in
tests). Errors are re-raised as NotifyError with scrubbed text only: smtplib and botocore messages can
echo hosts, user names and request data.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from kx_lake.lib.scrub import Scrubber


class NotifyError(RuntimeError):
    """A message could not be delivered; the text is scrubbed."""


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    security: str = "none"  # none | starttls | ssl
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0

    def send(self, msg: EmailMessage, scrub: Scrubber) -> str:
        try:
            if self.security == "ssl":
                server: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                                        context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with server:
                if self.security == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if self.username and self.password:
                    server.login(self.username, self.password)
                server.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(scrub(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}")) from None
        return str(msg["Message-ID"])


@dataclass(frozen=True)
class SesSender:
    region: str
    configuration_set: str | None = None
    client: Any = None  # a boto3 SES client; built from the default chain when None

    def send(self, msg: EmailMessage, scrub: Scrubber) -> str:
        import boto3  # lazy: SMTP-only deployments never import botocore

        client = self.client or boto3.client("ses", region_name=self.region)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        kwargs: dict[str, Any] = {
            "Source": str(msg["From"]),
            "Destination": {"ToAddresses": [a.strip() for a in str(msg["To"]).split(",")]},
            "Message": {
                "Subject": {"Data": str(msg["Subject"]), "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": text.get_content() if text else "", "Charset": "UTF-8"},
                    "Html": {"Data": html.get_content() if html else "", "Charset": "UTF-8"},
                },
            },
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            return client.send_email(**kwargs)["MessageId"]
        except Exception as exc:  # botocore ClientError, endpoint and credential errors alike
            raise NotifyError(scrub(f"SES send_email in {self.region}: {type(exc).__name__}: {exc}")) from None
