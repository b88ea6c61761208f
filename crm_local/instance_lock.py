"""One ``crm dev`` per folder (and per data folder): an OS lock on a file, held while the process lives.

The lock is ``flock`` on the file, so the operating system releases it when the process ends, however it
ends (``kill -9`` included): a lock file left behind is not a lock, and a new ``crm dev`` takes it over.
The holder writes who it is into the file (pid, and the API's address once it serves), for the message
the next one prints.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Any

# Readers (``held``) take the lock shared for an instant; a starting ``crm dev`` tries again for this long
# before it concludes that another one holds it.
CLAIM_SECONDS = 1.0


class Held(Exception):
    """Another process holds the lock: ``holder`` is what it wrote (``pid``, ``api``: either may be
    missing)."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        super().__init__(str(path))
        self.path = path
        self.holder = holder

    def who(self) -> str:
        """``http://127.0.0.1:8000, pid 1234`` (what is known of the holder)."""
        parts = [str(self.holder["api"])] if self.holder.get("api") else []
        parts.append(f"pid {self.holder['pid']}" if self.holder.get("pid") else "pid unknown")
        return ", ".join(parts)


class InstanceLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, **holder: Any) -> None:
        """Take the lock and write ``holder`` (with this pid) into its file; raises ``Held``."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + CLAIM_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise Held(self.path, _read(self.path)) from None
                time.sleep(0.05)
        self._fd = fd
        self.describe(**holder)

    def describe(self, **holder: Any) -> None:
        """What the next one to find this lock held is told about its holder."""
        assert self._fd is not None, "not held"
        text = json.dumps({"pid": os.getpid(), **holder}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text, 0)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor releases the lock
            self._fd = None


def held(path: Path) -> bool:
    """Whether a live process holds the lock at ``path`` (a file without a holder is left by a crash)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return True
        raise
    finally:
        os.close(fd)
    return False


def _read(path: Path) -> dict[str, Any]:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
