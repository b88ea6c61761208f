"""Writing one S3 object as a stream: what is written is sent in parts of a multipart upload as it comes,
so an object of any size needs one part's memory. ``zipfile.ZipFile`` writes to it as to an unseekable
file (each member followed by its data descriptor).

A writer can stop before the object is whole (``suspend``) and another, in another process, go on where it
stopped (``MultipartWriter(..., resume=...)``): the upload stays open between them (S3 keeps an incomplete
upload until it is completed or aborted), and what was written but not sent yet (less than a part: S3 wants
every part but the last to be at least 5 MiB) is handed over as ``Suspended.tail``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's least part, but for the last
PART_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Suspended:
    """Where a suspended writer stopped: its upload, the parts sent (``{"PartNumber", "ETag"}``), the
    bytes written in all, and the tail of them not sent yet."""

    upload_id: str
    parts: list[dict[str, Any]]
    written: int
    tail: bytes = field(default=b"", repr=False)

    def as_json(self) -> dict[str, Any]:
        """All but the tail (kept elsewhere: it may be megabytes)."""
        return {"upload_id": self.upload_id, "parts": self.parts, "written": self.written}

    @classmethod
    def from_json(cls, saved: dict[str, Any], tail: bytes) -> Suspended:
        parts = [{"PartNumber": int(p["PartNumber"]), "ETag": str(p["ETag"])} for p in saved["parts"]]
        return cls(str(saved["upload_id"]), parts, int(saved["written"]), tail)


class MultipartWriter:
    """A write-only, unseekable file whose bytes become the object ``key`` of ``bucket`` on ``close()``;
    ``abort()`` drops what was sent. The object appears whole or not at all (CompleteMultipartUpload), so
    a writer that dies leaves whatever object stood there before."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        key: str,
        *,
        part_bytes: int = PART_BYTES,
        resume: Suspended | None = None,
        **put: Any,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"parts are at least {MIN_PART_BYTES} bytes")
        self._s3, self._bucket, self._key, self._part_bytes = s3, bucket, key, part_bytes
        if resume is None:
            self._upload_id: str = s3.create_multipart_upload(Bucket=bucket, Key=key, **put)["UploadId"]
            self._parts: list[dict[str, Any]] = []
            self._written = 0
            self._buffer = bytearray()
        else:  # goes on with the upload a suspended writer left open
            self._upload_id, self._parts, self._written = resume.upload_id, list(resume.parts), resume.written
            self._buffer = bytearray(resume.tail)
        self.resumed = resume is not None
        self.closed = False

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) >= self._part_bytes:
            self._send(bytes(self._buffer[: self._part_bytes]))
            del self._buffer[: self._part_bytes]
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        """Parts go out when full: nothing to do before ``close``."""

    def close(self) -> None:
        """The rest sent as the last part and the object completed (an empty object is one empty part)."""
        if self.closed:
            return
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self.closed = True

    def suspend(self) -> Suspended:
        """Stop here, the upload left open for a writer made with ``resume=`` this answer."""
        self.closed = True
        return Suspended(self._upload_id, list(self._parts), self._written, bytes(self._buffer))

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)

    @property
    def size(self) -> int:
        return self._written

    def _send(self, data: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})
