"""The notifier resource: operations.yaml decides the transport (smtp locally, ses in production).

Resolved when a sensor evaluates, never at import or definitions load. Credentials come from the
environment variables named in operations.yaml (SMTP) or the AWS chain (SES); the Scrubber is built
from every secret the project knows of (each environment's MongoDB URI variable, AWS keys, the SMTP
password) and applied to everything rendered or raised.
"""

from __future__ import annotations

import os

import dagster as dg

from kx_lake.builders.resources import ProjectResource, load_project
from kx_lake.lib.notify import RunReport, Scrubber, SesSender, SmtpSender, build_message
from kx_lake.lib.ops.config import OperationsConfig


def load_operations(config_dir: str | None = None) -> OperationsConfig:
    return OperationsConfig.load(load_project(config_dir).settings.config_dir)


def project_scrubber(config_dir: str | None = None) -> Scrubber:
    smtp = load_operations(config_dir).email.smtp
    return Scrubber.for_project(load_project(config_dir), [n for n in (smtp.password_env,) if n])


class NotifierResource(dg.ConfigurableResource):
    """Sends the run-summary e-mail. `transport` overrides operations.yaml (e.g. tests, a staging deploy)."""

    kx_project: ProjectResource
    transport: str | None = None

    @property
    def operations(self) -> OperationsConfig:
        return load_operations(self.kx_project.config_dir)

    def scrubber(self) -> Scrubber:
        return project_scrubber(self.kx_project.config_dir)

    def _sender(self) -> SmtpSender | SesSender:
        email = self.operations.email
        transport = self.transport or email.transport
        if transport == "ses":
            return SesSender(email.ses.region, email.ses.configuration_set)
        if transport != "smtp":
            raise ValueError(f"unknown e-mail transport {transport!r} (smtp | ses)")
        smtp = email.smtp
        return SmtpSender(
            smtp.host, smtp.port, smtp.security,
            username=os.environ.get(smtp.username_env) if smtp.username_env else None,
            password=os.environ.get(smtp.password_env) if smtp.password_env else None,
            timeout_s=smtp.timeout_s,
        )

    def send(self, report: RunReport) -> str | None:
        """Deliver the report; returns the message id, or None when e-mail is disabled in config."""
        email = self.operations.email
        if not email.enabled:
            return None
        scrub = self.scrubber()
        msg = build_message(report, sender=email.sender, recipients=email.recipients,
                            subject_prefix=email.subject_prefix, scrub=scrub)
        return self._sender().send(msg, scrub)
