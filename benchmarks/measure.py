"""Run one contender in a child process and measure it from outside.

Wall time around the child; CPU time and peak RSS from the child's own rusage (os.wait4: this child
and the descendants it waited for, nobody else's); the source server's CPU from /proc, because a
contender that makes FerretDB work harder is paying for it even if it is not in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.workspace import REPO, Workspace

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    contender: str
    phase: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    server_cpu_s: float | None
    documents: int
    bytes: int | None
    collections: int
    failed: dict[str, str] = field(default_factory=dict)
    detail: dict = field(default_factory=dict)
    exit_code: int = 0

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.wall_s if self.wall_s else 0.0

    @property
    def mb_per_s(self) -> float | None:
        return self.bytes / 1e6 / self.wall_s if self.bytes is not None and self.wall_s else None

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(docs_per_s=round(self.docs_per_s, 1),
                   mb_per_s=None if self.mb_per_s is None else round(self.mb_per_s, 3))
        return out


def _proc_cpu(pid: int | None) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def measure(ws: Workspace, contender: str, plan_file: Path, phase: str, *extra: str, log=print) -> Measurement:  # noqa: ANN001
    cmd = [sys.executable, "-m", "benchmarks.contenders", contender, str(plan_file), *extra]
    server = ws.server_pid()
    server_before = _proc_cpu(server)
    logs = ws.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{contender}-{phase}.out", logs / f"{contender}-{phase}.err"
    started = time.monotonic()
    with open(out_path, "w") as out_fh, open(err_path, "w") as err_fh:
        proc = subprocess.Popen(cmd, cwd=REPO, env=ws.environ(), stdout=out_fh, stderr=err_fh, text=True)
        # wait4, not wait(): the rusage of this child alone (RUSAGE_CHILDREN's maxrss is a max over all)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = out_path.read_text(), err_path.read_text()
    server_after = _proc_cpu(server)
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith("BENCH_RESULT ")), None)
    if line is None:
        log(f"[red]{contender} {phase} failed (exit {proc.returncode})[/]\n{err[-3000:]}")
        result = {"documents": 0, "bytes": None, "collections": 0, "failed": {"*": err[-500:]}}
    else:
        result = json.loads(line.removeprefix("BENCH_RESULT "))
    cpu, rss = round(usage.ru_utime + usage.ru_stime, 2), round(usage.ru_maxrss / 1024, 1)  # maxrss is in KiB
    return Measurement(
        contender, phase, round(wall, 3), cpu, rss,
        None if server_before is None or server_after is None else round(server_after - server_before, 2),
        int(result.pop("documents")), result.pop("bytes"), int(result.pop("collections")),
        result.pop("failed") or {}, result, proc.returncode,
    )
