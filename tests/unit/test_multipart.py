"""The streamed S3 object: parts go out as they fill, so memory stays one part whatever the object's size,
and the parts together are exactly what was written (a zip written through it opens)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import pytest
from crm_core.multipart import MIN_PART_BYTES, MultipartWriter, Suspended
from crm_core.zipstream import ZipStream


class FakeS3:
    def __init__(self) -> None:
        self.parts: dict[int, bytes] = {}
        self.completed: list[dict[str, Any]] = []
        self.aborted = 0

    def create_multipart_upload(self, **kwargs: Any) -> dict[str, str]:
        return {"UploadId": "u1"}

    def upload_part(self, *, PartNumber: int, Body: bytes, **kwargs: Any) -> dict[str, str]:
        self.parts[PartNumber] = Body
        return {"ETag": f'"{PartNumber}"'}

    def complete_multipart_upload(self, **kwargs: Any) -> None:
        self.completed.append(kwargs)

    def abort_multipart_upload(self, **kwargs: Any) -> None:
        self.aborted += 1

    def object(self) -> bytes:
        return b"".join(self.parts[n] for n in sorted(self.parts))


def test_parts_go_out_as_they_fill_and_add_up_to_what_was_written() -> None:
    s3 = FakeS3()
    writer = MultipartWriter(s3, "bucket", "key", part_bytes=MIN_PART_BYTES)
    written = io.BytesIO()
    archive = zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED)  # type: ignore[arg-type]
    with archive, archive.open("big.jsonl", "w", force_zip64=True) as member:
        for _ in range(12 * 1024):
            chunk = os.urandom(1024)  # incompressible: the zip is as large as what goes in
            member.write(chunk)
            written.write(chunk)
            assert len(writer._buffer) < MIN_PART_BYTES
    assert len(s3.parts) == 2 and not s3.completed  # 12 MiB: two full parts sent before the end
    writer.close()
    assert len(s3.parts) == 3 and [p["PartNumber"] for p in s3.completed[0]["MultipartUpload"]["Parts"]] == [
        1,
        2,
        3,
    ]
    assert writer.size == len(s3.object())
    with zipfile.ZipFile(io.BytesIO(s3.object())) as archive:
        assert archive.read("big.jsonl") == written.getvalue()


def test_an_empty_object_is_one_empty_part_and_abort_drops_the_upload() -> None:
    s3 = FakeS3()
    writer = MultipartWriter(s3, "bucket", "key")
    writer.close()
    assert s3.parts == {1: b""} and len(s3.completed) == 1
    other = FakeS3()
    dropped = MultipartWriter(other, "bucket", "key")
    dropped.write(b"half")
    dropped.abort()
    assert other.aborted == 1 and not other.completed
    with pytest.raises(ValueError):
        MultipartWriter(FakeS3(), "bucket", "key", part_bytes=1024)


def test_a_zip_suspended_mid_member_and_mid_part_goes_on_in_another_writer() -> None:
    """Three writers in turn (as three runs of an export): each suspends with a tail shorter than a part and
    a member half-written; the next takes the upload, its parts, the tail and the zip's state up (through
    JSON, as the export item keeps them). The parts add up to one zip whose member is all that was written,
    and the part numbers go on from one writer to the next."""
    s3 = FakeS3()
    writer = MultipartWriter(s3, "bucket", "key", part_bytes=MIN_PART_BYTES)
    archive, written = ZipStream(writer), io.BytesIO()
    archive.begin("big.jsonl", (2026, 1, 2, 3, 4, 5))
    for run in range(3):
        for _ in range(4 * 1024):
            chunk = os.urandom(1024)  # incompressible: 4 MiB a run, so a part is sent every other run
            archive.write(chunk)
            written.write(chunk)
        state = json.loads(json.dumps(archive.suspend()))
        suspended = writer.suspend()
        assert len(suspended.tail) < MIN_PART_BYTES and not s3.completed, run
        saved = json.loads(json.dumps(suspended.as_json()))
        writer = MultipartWriter(
            s3, "bucket", "key", part_bytes=MIN_PART_BYTES, resume=Suspended.from_json(saved, suspended.tail)
        )
        archive = ZipStream(writer, state)
    archive.end()
    archive.finish([("manifest.json", (2026, 1, 2, 3, 4, 5), b"{}\n")])
    writer.close()
    assert [p["PartNumber"] for p in s3.completed[0]["MultipartUpload"]["Parts"]] == [1, 2, 3]
    with zipfile.ZipFile(io.BytesIO(s3.object())) as whole:
        assert whole.testzip() is None and whole.namelist() == ["big.jsonl", "manifest.json"]
        assert whole.read("big.jsonl") == written.getvalue()
        assert whole.getinfo("big.jsonl").date_time == (2026, 1, 2, 3, 4, 4)  # DOS time: 2-second steps
