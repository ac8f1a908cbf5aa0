"""operations.yaml validation, the run-summary message (plain text + HTML) and the secret scrubber."""

from __future__ import annotations

from pathlib import Path

import pytest

from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.lake.summary import CollectionResult
from kx_lake.lib.notify import CheckOutcome, RunReport, Scrubber, build_message
from kx_lake.lib.ops.config import OperationsConfig

URI = "mongodb://kx_app:Pa55w0rd-Very-Secret@mongo-1.internal:27017,mongo-2.internal/?authSource=admin"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_repository_operations_yaml_is_valid_and_hourly() -> None:
    ops = OperationsConfig.load(DEFAULT_CONFIG_DIR)
    assert ops.schedule.cron == "0 * * * *" and ops.schedule.lookback_days == 1
    assert ops.email.transport == "smtp" and ops.email.smtp.port == 1025
    assert ops.run_url("abc") == "http://127.0.0.1:3000/runs/abc"


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert OperationsConfig.load(tmp_path) == OperationsConfig()


def test_every_error_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "operations.yaml").write_text(
        "schedule: {cron: 'every hour'}\nemail: {transport: pigeon, recipients: [nobody], smtp: {port: 0}}\n"
        "checks: {freshness_max_lag_hours: -1}\nsurprise: 1\n"
    )
    with pytest.raises(ConfigErrors) as info:
        OperationsConfig.load(tmp_path)
    fields = {e.field for e in info.value.errors}
    assert {"schedule.cron", "email.transport", "email.recipients", "email.smtp.port",
            "checks.freshness_max_lag_hours", "surprise"} <= fields
    assert all(e.file.endswith("operations.yaml") for e in info.value.errors)
    (tmp_path / "operations.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        OperationsConfig.load(tmp_path)


def test_credentials_are_variable_names_not_values(tmp_path: Path) -> None:
    (tmp_path / "operations.yaml").write_text("email: {smtp: {password_env: 'hunter2 is my password'}}\n")
    with pytest.raises(ConfigErrors, match="email.smtp.password_env"):
        OperationsConfig.load(tmp_path)


def report() -> RunReport:
    return RunReport(
        job="sync_collections", run_id="r-1", status="FAILURE", env="env1",
        run_url="http://dagster.example/runs/r-1", duration_s=125.4,
        results=[
            CollectionResult("env1", "hims_billing", "bills", "succeeded", rows=1200, bytes=50_000, duration_s=3.5),
            CollectionResult("env1", "hims_admin", "audit_logs", "failed",
                             error=f"ServerSelectionTimeoutError: {URI} unreachable; key {AWS_SECRET} <script>"),
        ],
        checks=[
            CheckOutcome("hims_billing.bills", "id_unique", False, "ERROR", "3 _id(s) duplicated"),
            CheckOutcome("hims_billing.bills", "freshness", True),
        ],
        run_error="1 collection(s) failed in hims_admin",
    )


def test_message_has_text_and_html_with_the_facts_and_no_secrets() -> None:
    scrub = Scrubber([URI, AWS_SECRET])
    msg = build_message(report(), sender="kx@x.org", recipients=["a@x.org", "b@x.org"], scrub=scrub)
    assert msg["Subject"] == "[kx-lake] env1 sync_collections failed: 1 ok, 1 failed, 1 check(s) failing"
    assert msg["To"] == "a@x.org, b@x.org"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "env1" in body and "http://dagster.example/runs/r-1" in body
        assert "hims_billing.bills" in body and "1200" in body and "hims_admin.audit_logs" in body
        assert "id_unique" in body and "3 _id(s) duplicated" in body
        assert "Pa55w0rd-Very-Secret" not in body and AWS_SECRET not in body
        assert "kx_app:***@mongo-1.internal" in body
    assert "2 min 5 s" in text and "1 collection(s) failed in hims_admin" in text
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_success_subject_and_all_checks_passed() -> None:
    ok = RunReport("sync_collections", "r-2", "SUCCESS", "env2", "u", 1.0,
                   [CollectionResult("env2", "d", "c", "succeeded", rows=5)], [CheckOutcome("d.c", "freshness", True)])
    msg = build_message(ok, sender="kx@x.org", recipients=["a@x.org"], subject_prefix="[lake]")
    assert msg["Subject"] == "[lake] env2 sync_collections succeeded: 1 ok, 0 failed"
    assert "All 1 data-quality checks passed." in msg.get_body(("plain",)).get_content()


def test_scrubber_covers_uris_it_never_saw_and_known_values_anywhere() -> None:
    scrub = Scrubber.from_environment(["KX_LAKE_ENV1_MONGODB_URI"],
                                      environ={"KX_LAKE_ENV1_MONGODB_URI": URI, "AWS_SECRET_ACCESS_KEY": AWS_SECRET})
    out = scrub(f"failed {URI}; other mongodb+srv://u:otherpw@h/x?tlsCertificateKeyFilePassword=zz; "
                f"raw Pa55w0rd-Very-Secret and {AWS_SECRET}")
    assert "Pa55w0rd-Very-Secret" not in out and "otherpw" not in out and "zz" not in out and AWS_SECRET not in out
    assert "mongodb+srv://u:***@h/x" in out
    assert Scrubber()("plain text, no secrets") == "plain text, no secrets"


@pytest.mark.parametrize("cron", ["0 * * * *", "*/15 6-22 * * 1-5", "@daily", "every hour", "0 * * * * 30",
                                  "0 0 30 2 *", "61 * * * *", ""])
def test_cron_validation_agrees_with_what_a_dagster_schedule_accepts(cron: str) -> None:
    import dagster as dg

    from kx_lake.lib.ops.config import is_valid_cron

    try:
        dg.ScheduleDefinition(name="probe", cron_schedule=cron, job_name="probe_job")
        dagster_accepts = True
    except dg.DagsterInvalidDefinitionError:
        dagster_accepts = False
    assert is_valid_cron(cron) is dagster_accepts
    if not dagster_accepts:
        with pytest.raises(ValueError, match="cron"):
            OperationsConfig.model_validate({"schedule": {"cron": cron}})
