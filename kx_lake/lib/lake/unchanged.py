"""Dates a cycle need not rewrite: the same documents as last published, onto the same files.

Every cycle re-reads its look-back dates, and those still hold documents; re-materializing such a
date merges them into its files. When they are byte for byte the documents the date was last
published from, under the same schema and collection settings, that merge gives back exactly the rows
the files hold (each version replaces its own copy, the rest is kept), so it is skipped. Publication
records, for the newest dates it writes (RECORDED_DATES, enough for the look-back), `<content>:<files>`
in the collection's state:

* content: BLAKE2b of a format tag, the final schema's fingerprint, the collection's settings, the
  environment's timezone, the date and the date's spool digest (its raw BSON in query order,
  spool.py). The same (_id, timestamp) with other content, another schema (a widening, an added
  column), a document more or less: another digest, so the date is published as before.
* files: BLAKE2b of every file under the date folder as listed right after the write (path, size and
  what identifies a file version: inode and mtime locally, ETag and time on S3). A date rewritten
  since — a crash after its files but before the state, reconcile, tombstones, another engine, the
  debris of a crashed write — no longer matches and is published again.

Records are written with the state, after the files: a crash in between keeps the old record, whose
file fingerprint no longer matches. A date is skipped only when both halves match, never when a
document of an open reject was read again (its reject must be restated by publication), and skipped
dates are counted (metadata `unchanged_dates`, the publish log line).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import TYPE_CHECKING

from kx_lake.lib.storage import LakeStorage

if TYPE_CHECKING:
    from kx_lake.lib.lake.pipeline import StagedCollection

RECORDED_DATES = 8
_FORMAT = b"kx-lake unchanged date 1"
_VERSION_KEYS = ("ino", "mtime", "ETag", "LastModified", "etag", "last_modified", "generation", "md5Hash")


class PublishedDates:
    """The records of one collection's publication: which dates it may skip, and what to record after."""

    def __init__(self, staged: StagedCollection, storage: LakeStorage, tz_name: str):
        self.staged, self.storage = staged, storage
        context = hashlib.blake2b(_FORMAT, digest_size=32)
        for part in (staged.schema.fingerprint, staged.spec.model_dump_json(), tz_name):
            context.update(b"\0" + part.encode())
        self._context = context

    def content(self, day: date) -> str | None:
        spooled = self.staged.spool.digest(day)
        if spooled is None:
            return None
        digest = self._context.copy()
        digest.update(f"\0{day.isoformat()}\0{spooled}".encode())
        return digest.hexdigest()

    def files(self, day: date) -> str:
        s = self.staged
        fs = self.storage.fs
        where = self.storage.leaf_dir(s.env, s.spec.database, s.spec.collection, day)
        fs.invalidate_cache(where)
        try:
            found = fs.find(where, withdirs=False, detail=True)
        except FileNotFoundError:
            found = {}
        digest = hashlib.blake2b(digest_size=32)
        for path in sorted(found):
            info = found[path]
            version = [str(info.get(k)) for k in _VERSION_KEYS if info.get(k) is not None]
            digest.update("\0".join([path, str(info.get("size")), *version, "\n"]).encode())
        return digest.hexdigest()

    def skippable(self, dates: list[date]) -> list[date]:
        """The dates whose documents and files are exactly those last recorded (none if an open reject
        was read again, or nothing is recorded)."""
        recorded = self.staged.state_before.published_dates
        if not recorded or self.staged.landed_rejects:
            return []
        rewrite = set(self.staged.rewrite_dates)
        out = []
        for day in dates:
            record = recorded.get(day.isoformat())
            if record is None or day in rewrite:
                continue
            content = self.content(day)
            if content is not None and record == f"{content}:{self.files(day)}":
                out.append(day)
        return out

    def after(self, written: list[date]) -> dict[str, str]:
        """The records to store once `written` are published: theirs (the newest dates only), and
        the earlier ones of dates this run did not write."""
        done = {d.isoformat() for d in written}
        records = {k: v for k, v in self.staged.state_before.published_dates.items() if k not in done}
        contents = {d.isoformat(): (d, c) for d in written if (c := self.content(d)) is not None}
        keep = sorted(set(records) | set(contents))[-RECORDED_DATES:]
        for key in keep:
            if key in contents:
                day, content = contents[key]
                records[key] = f"{content}:{self.files(day)}"
        return {k: records[k] for k in keep}


def forget(staged: StagedCollection, written: list[date]) -> dict[str, str]:
    """The earlier records minus the dates another engine wrote (it records none of its own)."""
    done = {d.isoformat() for d in written}
    return {k: v for k, v in staged.state_before.published_dates.items() if k not in done}
