"""Sensors: new data in MongoDB → sync only those collections; finished runs → the summary e-mail.

New-data sensor. Per active environment and collection it asks MongoDB for documents newer than
max(stored watermark, what this sensor already requested) (lib/ops/newdata.py), and requests the
collections that have some over the range `kx-lake sync` would plan from their state (where the
last sync reached minus the look-back, to today), widened back to the oldest date a new document
falls on — so a sensor run never leaves a gap behind `synced_until`. Collections with the same
environment and range share one run (range tags, like the CLI's sync groups). The cursor — JSON
{"env/database.collection": newest requested epoch ms} — makes the sensor durable and idempotent: a
tick while the run is still going does not request it again. The cursor never moves past now plus
a small skew, so one document stamped in 2099 cannot blind the sensor to everything before it. Nor
can a watermark: a sync that took in a document stamped later today (not rejected: it is before
tomorrow) stores at most its own time + skew (lake/state.py); a watermark past now + skew (written
before that cap) is not trusted and the sensor looks from now − skew instead (what a host writes now,
its clock up to the skew behind, is stamped after that).
Documents found again at every look (the future one, the last minutes' already synced) keep the run
key — the newest timestamp up to now + skew — so Dagster does not request them twice. If
a run fails, the watermark stays behind and the cursor ahead, so the collection is re-requested only
when newer data arrives; the hourly schedule covers the gap.

E-mail sensors. One run-status sensor mails the summary after each successful sync run (Dagster
filters the runs: `monitored_jobs`); one run-failure sensor mails any failed run of the code
location. Both start STOPPED.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from kx_lake.builders.notify_resources import NotifierResource, load_operations, project_scrubber
from kx_lake.builders.resources import MongoSourceResource, ProjectResource
from kx_lake.builders.run_report import report_for_run
from kx_lake.builders.sync_requests import group_request
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.plan import SyncGroup, plan_sync
from kx_lake.lib.lake.state import FUTURE_SKEW_MS, CollectionState
from kx_lake.lib.ops.config import OperationsConfig
from kx_lake.lib.ops.newdata import NewData, find_new_data

NEW_DATA_SENSOR = "mongodb_new_data"
SUCCESS_EMAIL_SENSOR = "sync_summary_email"
FAILURE_EMAIL_SENSOR = "run_failure_email"


CURSOR_SKEW = timedelta(milliseconds=FUTURE_SKEW_MS)  # how far past "now" the cursor may move (clock skew between hosts)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def look_after(watermark_ms: int, cursor_ms: int, now: datetime) -> int:
    """Where the sensor looks from: past the watermark and what it already requested, unless that is
    past now + skew (a future-stamped document was synced): then from now − skew."""
    after = max(watermark_ms, cursor_ms)
    return after if after <= _ms(now + CURSOR_SKEW) else _ms(now - CURSOR_SKEW)


def _detect(project: ProjectConfig, mongo: MongoSourceResource, cursor: dict[str, int],
            log: dg.DagsterLogManager | None, scrub, now: datetime) -> tuple[list[tuple[NewData, CollectionSpec]], list[str]]:
    found, never_loaded = [], []
    for env in project.active_environments:
        storage = storage_for(project, env)
        today = now.astimezone(env.tz).date()
        try:
            client = mongo.client(env.name)
            for spec in project.enabled_collections:
                name = f"{env.name}/{spec.database}.{spec.collection}"
                state = CollectionState.read(storage, env.name, spec.database, spec.collection)
                if state.watermark_ms is None:
                    never_loaded.append(name)
                    continue
                new = find_new_data(client, env.name, spec, look_after(state.watermark_ms, cursor.get(name, 0), now),
                                    env.tz, project.partitions_start, today + timedelta(days=1),
                                    due_until_ms=_ms(now + CURSOR_SKEW))
                if new is not None:
                    found.append((new, spec))
        except Exception as exc:  # one unreachable environment must not stop the others
            if log:
                log.error(f"{env.name}: new-data check failed: {scrub(f'{type(exc).__name__}: {exc}')}")
    return found, never_loaded


def new_data_requests(project: ProjectConfig, found: list[tuple[NewData, CollectionSpec]], *,
                      lookback_days: int, now: datetime) -> list[dg.RunRequest]:
    groups: dict[tuple[str, date, date], list[tuple[NewData, CollectionSpec]]] = defaultdict(list)
    for new, spec in found:
        [planned] = plan_sync(project, new.env, [spec], lookback_days=lookback_days, now=now)
        groups[(new.env, min(planned.first, new.dates[0]), planned.last)].append((new, spec))
    requests = []
    for (env, first, last), items in sorted(groups.items()):
        items.sort(key=lambda i: (i[1].database, i[1].collection))
        group = SyncGroup(env, first, last, tuple(s for _, s in items), False)
        run_key = ",".join(f"{s.database}.{s.collection}@{n.key_ms}" for n, s in items)
        requests.append(group_request(project, group, source="sensor", run_key=run_key))
    return requests


def advance_cursor(cursor: dict[str, int], found: list[tuple[NewData, CollectionSpec]], now: datetime) -> None:
    """Remember what was requested, never past now + skew (a future-dated document must not blind the sensor)."""
    cap = _ms(now + CURSOR_SKEW)
    for new, _ in found:
        cursor[new.name] = max(cursor.get(new.name, 0), min(new.newest_ms, cap))


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def build_new_data_sensor(ops: OperationsConfig, job_name: str,
                          clock: Callable[[], datetime] = _wall_clock) -> dg.SensorDefinition:
    """`clock`: "now" for planning and the cursor cap; tests pass a fixed one."""
    @dg.sensor(
        name=NEW_DATA_SENSOR, job_name=job_name, minimum_interval_seconds=ops.sensor.minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Sync the collections whose MongoDB data is newer than their watermark (only their dates).",
    )
    def _sensor(context: dg.SensorEvaluationContext, kx_project: ProjectResource, mongo: MongoSourceResource):
        project = kx_project.project
        cursor: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        now = clock()
        found, never_loaded = _detect(project, mongo, cursor, context.log, project_scrubber(kx_project.config_dir), now)
        for new, _ in found:
            context.log.info(f"{new.name}: {new.documents} new document(s) on {', '.join(map(str, new.dates))}")
        advance_cursor(cursor, found, now)
        context.update_cursor(json.dumps(cursor, sort_keys=True))
        requests = new_data_requests(project, found, lookback_days=ops.schedule.lookback_days, now=now)
        if not requests:
            extra = f"; {len(never_loaded)} never loaded (backfill them)" if never_loaded else ""
            return dg.SkipReason(f"no data past the watermarks{extra}")
        return requests

    return _sensor


def build_email_sensors(sync_job) -> list[dg.SensorDefinition]:  # noqa: ANN001 - a define_asset_job result
    @dg.run_status_sensor(
        name=SUCCESS_EMAIL_SENSOR, run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[sync_job],
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"E-mail the run summary (collections, rows, failing checks) after each {sync_job.name} run.",
    )
    def _on_success(context: dg.RunStatusSensorContext, notifier: NotifierResource):
        run = context.dagster_run
        report = report_for_run(context.instance, run, load_operations(notifier.kx_project.config_dir))
        message_id = notifier.send(report)
        context.log.info(f"run {run.run_id}: summary e-mail {'sent ' + message_id if message_id else 'disabled'}")

    @dg.run_failure_sensor(
        name=FAILURE_EMAIL_SENSOR, default_status=dg.DefaultSensorStatus.STOPPED,
        description="E-mail the summary and error of any failed run.",
    )
    def _on_failure(context: dg.RunFailureSensorContext, notifier: NotifierResource):
        run = context.dagster_run
        error = context.failure_event.message if context.failure_event else None
        report = report_for_run(context.instance, run, load_operations(notifier.kx_project.config_dir), run_error=error)
        message_id = notifier.send(report)
        context.log.info(f"run {run.run_id}: failure e-mail {'sent ' + message_id if message_id else 'disabled'}")

    return [_on_success, _on_failure]
