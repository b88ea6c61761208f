"""A zip written as a stream, member by member, that can stop in the middle of a member and be taken up
again by another process (a tenant export longer than one Lambda run, decision 0015).

``zipfile`` writes to an unseekable file well, but a member's deflate stream lives in a zlib compressor
that cannot be saved. So the members are written here: the local header (``ZipInfo.FileHeader``, as
``zipfile`` writes it for an unseekable file: ZIP64, sizes in a data descriptor after the data), the data
deflated as it comes with its CRC-32 and sizes counted, and the data descriptor. ``suspend`` ends the
compressor's output with a full flush (byte-aligned, no reference to what came before), so a fresh
compressor's output appended after it continues one valid deflate stream; the member's CRC and sizes are
numbers that go on. ``finish`` hands the finished members to a ``zipfile.ZipFile`` opened on the same file
at its current offset, which adds the last members given whole (the manifest) and writes the central
directory. The uncompressed content is the same however many times the writing stopped."""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import Any, BinaryIO, TypedDict

DATA_DESCRIPTOR = 0x08074B50
USES_DATA_DESCRIPTOR = 0x08
ZIP64_VERSION = 45
FILE_MODE = 0o644 << 16

DateTime = tuple[int, int, int, int, int, int]


class Member(TypedDict):
    """A member as the central directory needs it; also the one being written when suspended."""

    name: str
    date_time: list[int]
    header_offset: int
    crc: int
    file_size: int
    compress_size: int


class ZipState(TypedDict):
    members: list[Member]
    open: Member | None


def _compressor() -> Any:
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile's ZIP_DEFLATED


def _info(member: Member) -> zipfile.ZipInfo:
    date_time = member["date_time"]
    info = zipfile.ZipInfo(member["name"], date_time=(*date_time[:6],))  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = FILE_MODE
    info.flag_bits = USES_DATA_DESCRIPTOR
    info.header_offset = member["header_offset"]
    info.CRC, info.file_size, info.compress_size = member["crc"], member["file_size"], member["compress_size"]
    info.create_version = info.extract_version = ZIP64_VERSION  # what FileHeader(zip64=True) sets
    return info


class ZipStream:
    """Deflated members written to ``out`` (a file with ``write`` and ``tell``, unseekable), from the
    start or from a ``suspend``'s state."""

    def __init__(self, out: BinaryIO | Any, state: ZipState | None = None) -> None:
        self._out = out
        self._members: list[Member] = list(state["members"]) if state else []
        self._open: Member | None = dict(state["open"]) if state and state["open"] else None  # type: ignore[assignment]
        self._compressor = _compressor() if self._open else None

    @property
    def writing(self) -> str | None:
        """The member being written, if one is."""
        return self._open["name"] if self._open else None

    def begin(self, name: str, date_time: DateTime) -> None:
        if self._open is not None:
            raise ValueError(f"{self._open['name']} is still being written")
        member: Member = {
            "name": name,
            "date_time": list(date_time),
            "header_offset": self._out.tell(),
            "crc": 0,
            "file_size": 0,
            "compress_size": 0,
        }
        header = _info({**member, "crc": 0, "file_size": 0, "compress_size": 0})
        self._out.write(header.FileHeader(zip64=True))
        self._open, self._compressor = member, _compressor()

    def write(self, data: bytes) -> None:
        member, compressor = self._writing()
        member["crc"] = zlib.crc32(data, member["crc"])
        member["file_size"] += len(data)
        self._emit(member, compressor.compress(data))

    def end(self) -> None:
        member, compressor = self._writing()
        self._emit(member, compressor.flush())
        self._out.write(
            struct.pack("<LLQQ", DATA_DESCRIPTOR, member["crc"], member["compress_size"], member["file_size"])
        )
        self._members.append(member)
        self._open = self._compressor = None

    def suspend(self) -> ZipState:
        """What a later ``ZipStream`` goes on from; the member being written is flushed to a byte boundary
        with nothing after it referring to what came before."""
        if self._open is not None and self._compressor is not None:
            self._emit(self._open, self._compressor.flush(zlib.Z_FULL_FLUSH))
            self._compressor = None
        return {"members": list(self._members), "open": dict(self._open) if self._open else None}  # type: ignore[typeddict-item]

    def finish(self, last: list[tuple[str, DateTime, bytes]]) -> None:
        """The ``last`` members written whole, then the central directory of every member."""
        if self._open is not None:
            raise ValueError(f"{self._open['name']} is still being written")
        archive = zipfile.ZipFile(self._out, "w", compression=zipfile.ZIP_DEFLATED)  # starts at out.tell()
        for member in self._members:
            info = _info(member)
            archive.filelist.append(info)
            archive.NameToInfo[info.filename] = info
        for name, date_time, data in last:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = FILE_MODE
            archive.writestr(info, data)
        archive.close()

    def _writing(self) -> tuple[Member, Any]:
        if self._open is None or self._compressor is None:
            raise ValueError("no member is being written")
        return self._open, self._compressor

    def _emit(self, member: Member, chunk: bytes) -> None:
        if chunk:
            member["compress_size"] += len(chunk)
            self._out.write(chunk)
