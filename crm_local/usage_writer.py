"""``crm dev``'s stand-in for the log subscription and Firehose (docs/decisions/0026): the usage lines the
API and the relay emit (crm_core.usage) are gathered in memory and written to the analytics bucket every
``interval_s``, one Parquet file per tenant and day a batch, under the same ``object=usage`` partition
Firehose writes in AWS. Never a DynamoDB write per request.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from crm_core import usage
from crm_core.ids import new_id

INTERVAL_S = 1.0


class UsageWriter:
    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.error: Exception | None = None
        self.files_written = 0
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, lines: list[dict[str, Any]]) -> None:
        with self._lock:
            self._lines.extend(lines)

    def start(self) -> None:
        usage.set_sink(self)
        self._thread = threading.Thread(target=self._run, name="usage-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        usage.set_sink(None)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.flush()
            except Exception as error:  # kept for the runtime's owner to see; the lines are kept too
                self.error = error

    def flush(self) -> int:
        """The lines gathered so far, written; the number of files."""
        from crm_core.reports import store
        from crm_core.reports.columns import USAGE
        from crm_core.reports.parquet import to_parquet

        with self._flushing:
            with self._lock:
                lines, self._lines = self._lines, []
            groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
            for one in lines:
                groups[(str(one["tenant_id"]), str(one["at"])[:10])].append(one)
            written = 0
            try:
                for (tenant_id, date), batch in sorted(groups.items()):
                    newest = max(str(one["at"]) for one in batch)
                    key = store.file_key(tenant_id, USAGE.collection, date, newest, "usage", [new_id()])
                    store.put(key, to_parquet(USAGE, batch))
                    written += 1
                    del groups[(tenant_id, date)]
            except Exception:
                with self._lock:  # what was not written goes back, to be tried again
                    self._lines[:0] = [one for batch in groups.values() for one in batch]
                raise
            self.files_written += written
            return written
