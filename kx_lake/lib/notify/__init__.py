"""The run-summary e-mail: a report object, its plain-text + HTML rendering, and two transports (SMTP
for a laptop, SES for production). Plain Python; the Dagster resource and sensors wrap it."""

from kx_lake.lib.notify.message import CheckOutcome, RunReport, build_message
from kx_lake.lib.scrub import Scrubber
from kx_lake.lib.notify.transport import NotifyError, SesSender, SmtpSender

__all__ = ["CheckOutcome", "NotifyError", "RunReport", "Scrubber", "SesSender", "SmtpSender", "build_message"]
