"""The run-summary e-mail, really delivered: SMTP to a local aiosmtpd server and SES to moto's server,
and end to end from real sync runs on FerretDB through the success and failure sensors.

Secrets: a MongoDB URI with a password (for env2, which the runs never touch, so it cannot break
them) and AWS keys are in the environment throughout the end-to-end test; neither may appear in the
e-mail, in the run's event log (messages and metadata) or in the sensor's logs.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from kx_lake.builders.notify_resources import NotifierResource
from kx_lake.builders.resources import ProjectResource, load_project
from kx_lake.builders.sensors import build_email_sensors
from kx_lake.builders.sync_runner import run_sync
from kx_lake.defs.lake import sync_job
from kx_lake.lib.lake.plan import SyncGroup
from kx_lake.lib.lake.summary import CollectionResult
from kx_lake.lib.notify import NotifyError, RunReport, Scrubber, SesSender, build_message
from kx_lake.lib.catalog import duckdb_catalog
from kx_lake_tests.fixtures.scratch_lake import scratch_lake
from kx_lake_tests.fixtures.smtp_server import smtp_server  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

SECRET_PW = "Xk9-pa55word-Never-Print"
SECRET_URI = f"mongodb://kx_app:{SECRET_PW}@mongo.prod.internal:27017/?authSource=admin"
AWS_KEY_ID = "AKIAKXLAKETESTKEY0001"
AWS_SECRET = "kxLakeTestSecretKey/DoNotPrint+0123456789"
ROWS = """collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled
m_bills,hims_billing,updated_at,date,facility_id,true
m_broken,hims_admin,updated_at,date,tenant_id,true
"""
COLLS = (("hims_billing", "m_bills"), ("hims_admin", "m_broken"))


def operations_yaml(cfg_dir: Path, smtp_port: int, transport: str = "smtp") -> None:
    (cfg_dir / "operations.yaml").write_text(
        f"ui_base_url: https://dagster.kx.example\n"
        f"email:\n  transport: {transport}\n  sender: kx-lake@kx.example\n"
        f"  recipients: [oncall@kx.example, data@kx.example]\n"
        f"  smtp: {{host: 127.0.0.1, port: {smtp_port}}}\n  ses: {{region: ap-south-1}}\n"
    )


def report() -> RunReport:
    return RunReport(
        job="sync_collections", run_id="run-42", status="SUCCESS", env="env1", run_url="https://d/runs/run-42",
        duration_s=3.0, results=[CollectionResult("env1", "hims_billing", "bills", "succeeded", rows=7, bytes=900)],
    )


def test_smtp_delivery_to_a_real_server(smtp_server) -> None:  # noqa: F811
    from kx_lake.lib.notify import SmtpSender

    smtp_server.clear()
    msg = build_message(report(), sender="kx@kx.example", recipients=["a@kx.example"])
    SmtpSender(smtp_server.host, smtp_server.port).send(msg, Scrubber())
    [got] = smtp_server.messages
    assert got["X-Envelope-To"] == "a@kx.example"
    assert got["Subject"] == "[kx-lake] env1 sync_collections succeeded: 1 ok, 0 failed"
    assert "hims_billing.bills: 7 rows, 900 bytes" in got.get_body(("plain",)).get_content()
    assert "https://d/runs/run-42" in got.get_body(("html",)).get_content()


def test_smtp_error_is_scrubbed() -> None:
    from kx_lake.lib.notify import SmtpSender

    msg = build_message(report(), sender="kx@kx.example", recipients=["a@kx.example"])
    # port 1 on loopback refuses; the password must not surface in the error either way
    with pytest.raises(NotifyError) as info:
        SmtpSender("127.0.0.1", 1, username="kx", password=SECRET_PW, timeout_s=2).send(msg, Scrubber([SECRET_PW]))
    assert "127.0.0.1:1" in str(info.value) and SECRET_PW not in str(info.value)


def test_ses_delivery_through_moto(moto_server, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    ses = moto_server.client("ses")
    msg = build_message(report(), sender="kx-lake@kx.example", recipients=["oncall@kx.example"])
    with pytest.raises(NotifyError, match="not verified|MessageRejected"):  # SES refuses unverified senders
        SesSender("ap-south-1", client=ses).send(msg, Scrubber())
    ses.verify_email_identity(EmailAddress="kx-lake@kx.example")
    before = ses.get_send_quota()["SentLast24Hours"]
    message_id = SesSender("ap-south-1").send(msg, Scrubber())  # default chain: AWS_ENDPOINT_URL → moto
    assert message_id and ses.get_send_quota()["SentLast24Hours"] == before + 1
    with urllib.request.urlopen(moto_server.endpoint_url + "/moto-api/data.json", timeout=10) as resp:
        data = json.load(resp)
    [sent] = [m for m in data["ses"]["Message"] if m["id"] == message_id]  # moto keeps the HTML body
    assert sent["source"] == "kx-lake@kx.example" and sent["destinations"]["ToAddresses"] == ["oncall@kx.example"]
    assert sent["subject"] == msg["Subject"] and "hims_billing.bills" in sent["body"] and "run-42" in sent["body"]


@pytest.fixture
def lake(request, local_source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server):  # noqa: F811
    scratch_lake(request, local_source, tmp_path, monkeypatch, ROWS)
    operations_yaml(tmp_path / "cfg", smtp_server.port)
    monkeypatch.setenv("KX_LAKE_ENV2_MONGODB_URI", SECRET_URI)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    client = local_source.client("env1")
    for db, coll in COLLS:
        client[db][coll].drop()
    client.hims_billing.m_bills.insert_many(
        [{"_id": f"B{i}", "facility_id": "F1", "updated_at": datetime(2026, 1, 2, 6, i, tzinfo=UTC)} for i in range(4)])
    client.hims_admin.m_broken.insert_one({"_id": 1, "updated_at": datetime(2026, 1, 2, 5, tzinfo=UTC), "x": 1})
    from kx_lake.definitions import defs

    smtp_server.clear()
    project = load_project()
    # the source's home is shared by the session's tests: a catalog another test left there would answer
    # the checks this test expects to warn "no catalog" (test_ops_checks.py clears it the same way)
    duckdb_catalog.catalog_path(project, "env1").unlink(missing_ok=True)
    yield project, defs(), dg.DagsterInstance.ephemeral()
    for db, coll in COLLS:
        client[db][coll].drop()


def sync_and_mail(project, definitions, instance, names: tuple[str, ...], status: dg.DagsterRunStatus):
    group = SyncGroup("env1", date(2026, 1, 1), date(2026, 1, 3), tuple(project.collection(n) for n in names), False)
    summary = run_sync(definitions, "sync_collections", [group], instance=instance)
    run = instance.get_run_by_id(summary.run_ids[0])
    assert run.status == status
    event_type = dg.DagsterEventType.RUN_SUCCESS if status == dg.DagsterRunStatus.SUCCESS else dg.DagsterEventType.RUN_FAILURE
    event = instance.all_logs(run.run_id, of_type=event_type)[0].dagster_event
    on_success, on_failure = build_email_sensors(sync_job(project))
    sensor = on_success if status == dg.DagsterRunStatus.SUCCESS else on_failure
    with dg.build_run_status_sensor_context(  # a context manager: the notifier nests the project resource
            sensor_name=sensor.name, dagster_event=event, dagster_instance=instance, dagster_run=run,
            resources={"notifier": NotifierResource(kx_project=ProjectResource())}) as ctx:
        sensor(ctx.for_run_failure() if status == dg.DagsterRunStatus.FAILURE else ctx)
    return run


def event_log_text(instance, run_id: str) -> str:
    return "\n".join(repr(e) for e in instance.all_logs(run_id))


def test_success_sensor_mails_the_run_summary(lake, smtp_server) -> None:  # noqa: F811
    project, definitions, instance = lake
    run = sync_and_mail(project, definitions, instance, ("m_bills",), dg.DagsterRunStatus.SUCCESS)
    [msg] = smtp_server.messages
    assert msg["X-Envelope-To"] == "oncall@kx.example, data@kx.example"
    # the checks ran in the sync; this lake has no catalog and January data, so three of them warn
    assert str(msg["Subject"]).strip() == "[kx-lake] env1 sync_collections succeeded: 1 ok, 0 failed, 3 check(s) failing"
    text = msg.get_body(("plain",)).get_content()
    assert "Failing data-quality checks:" in text
    assert "[WARN] hims_billing.m_bills reconciliation: env1: no catalog" in text
    assert "[WARN] hims_billing.m_bills freshness: env1: newest partition 2026-01-02" in text
    assert "Environment: env1" in text and "hims_billing.m_bills: 4 rows" in text
    assert f"https://dagster.kx.example/runs/{run.run_id}" in text
    assert "Duration:" in text and "unknown" not in text.split("Duration:")[1].splitlines()[0]
    # observability: the materialization carries what the UI plots per run, lag as a float
    mat = instance.get_latest_materialization_event(dg.AssetKey(["hims_billing", "m_bills"])).asset_materialization
    meta = {k: v.value for k, v in mat.metadata.items()}
    assert meta["rows"] == 4 and meta["bytes"] > 0 and isinstance(meta["lag_hours"], float) and meta["lag_hours"] > 24
    assert isinstance(meta["extract_duration_s"], float) and isinstance(meta["publish_duration_s"], float)


def test_failure_sensor_mails_errors_and_no_secret_leaks_anywhere(lake, smtp_server, monkeypatch) -> None:  # noqa: F811
    """m_broken fails while staging; m_bills fails while publishing (its state write refused) with an
    error that echoes the env2 URI, a URI of its own and the AWS secret key."""
    from kx_lake.lib.lake.state import CollectionState

    leak = f"state write refused: {SECRET_URI} then mongodb://user:S3cretPw@host key={AWS_SECRET}"

    def refuse(*_args, **_kwargs) -> None:  # the traceback shows this line: the secrets are not on it
        raise OSError(leak)

    monkeypatch.setattr(CollectionState, "write", refuse)
    project, definitions, instance = lake
    run = sync_and_mail(project, definitions, instance, ("m_bills", "m_broken"), dg.DagsterRunStatus.FAILURE)
    [msg] = smtp_server.messages
    # both failures are counted: m_broken's while staging, m_bills' while publishing (its IO manager
    # records a failure observation before raising)
    assert "env1 sync_collections failed: 0 ok, 2 failed" in str(msg["Subject"])
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "hims_admin.m_broken: CollectionSyncError" in text and "['tenant_id']" in text
    assert "hims_billing.m_bills: publishing: OSError: state write refused" in text
    assert "extract_hims_billing" in text and "Run error:" in text
    events = event_log_text(instance, run.run_id)
    assert "OSError: state write refused: mongodb://kx_app:***@mongo.prod.internal" in events
    assert "mongodb://user:***@host" in events
    everything = "\n".join([msg.as_string(), text, html, events])
    for secret in (SECRET_PW, SECRET_URI, AWS_SECRET, "S3cretPw"):
        assert secret not in everything


def test_the_success_sensor_mails_only_runs_of_the_monitored_sync_job(tmp_path: Path, smtp_server) -> None:  # noqa: F811
    """Dagster's run-status sensor machinery (not the sensor's body) picks the sync job's runs."""
    import shutil

    from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

    cfg = tmp_path / "cfg"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg)
    operations_yaml(cfg, smtp_server.port)

    @dg.asset(key=["hims_billing", "tiny"])
    def tiny() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 3})

    sync = dg.define_asset_job("sync_collections", selection=[tiny])
    other = dg.define_asset_job("refresh_catalog", selection=[tiny])
    on_success, _ = build_email_sensors(sync)
    resources = {"notifier": NotifierResource(kx_project=ProjectResource(config_dir=str(cfg)))}
    defs = dg.Definitions(assets=[tiny], jobs=[sync, other], sensors=[on_success], resources=resources)
    smtp_server.clear()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        with dg.build_sensor_context(instance=instance, resources=resources) as ctx:  # nested resources: a scope
            first = on_success.evaluate_tick(ctx)  # sets the cursor
        assert defs.resolve_job_def("refresh_catalog").execute_in_process(instance=instance).success
        synced = defs.resolve_job_def("sync_collections").execute_in_process(instance=instance)
        assert synced.success
        with dg.build_sensor_context(instance=instance, resources=resources, cursor=first.cursor) as ctx:
            second = on_success.evaluate_tick(ctx)
    # the refresh_catalog run never reaches the sensor's body (no hand-written job filter there)
    assert [(r.dagster_run.job_name, r.error) for r in second.dagster_run_reactions] == [("sync_collections", None)]
    subjects = [str(m["Subject"]) for m in smtp_server.messages]
    assert subjects == ["[kx-lake] all environments sync_collections succeeded: 1 ok, 0 failed"]
    assert synced.run_id in smtp_server.messages[0].get_body(("plain",)).get_content()
