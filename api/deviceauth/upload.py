"""Reading an access-list upload as it arrives: raw CSV or a multipart form.

Nothing is applied while reading: every row is checked first, and the rows that passed
are spooled to a temporary file (in memory while small), so that a large upload holds
one chunk of the body and one batch of rows at a time, never the whole file.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from fastapi import Request
from starlette.datastructures import UploadFile

from api.problem import Problem
from domain.deviceauth.access_list_csv import AccessListParser, AccessListRow

# Chunks are parsed in a worker thread; collecting this much first keeps the hops few.
_PARSE_CHUNK_BYTES = 256 * 1024
_SPOOLED_IN_MEMORY = 1024 * 1024


class CheckedAccessList:
    """The rows of an upload that passed every check, read back in batches."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_SPOOLED_IN_MEMORY)  # noqa: SIM115
        self.rows = 0

    def add(self, rows: list[AccessListRow]) -> None:
        # Identifiers and base64 hold neither ";" nor a line break.
        self._file.write(
            "".join(f"{row.device_identifier};{row.public_key}\n" for row in rows).encode()
        )
        self.rows += len(rows)

    def batches(self, size: int) -> Iterator[tuple[tuple[str, str], ...]]:
        self._file.seek(0)
        batch: list[tuple[str, str]] = []
        for line in self._file:
            identifier, _, key = line.decode().rstrip("\n").partition(";")
            batch.append((identifier, key))
            if len(batch) == size:
                yield tuple(batch)
                batch = []
        if batch:
            yield tuple(batch)

    def close(self) -> None:
        self._file.close()


@asynccontextmanager
async def checked_upload(request: Request, limit: int) -> AsyncIterator[CheckedAccessList]:
    """Raises AccessListRejected (nothing was applied) or Problem; yields rows to apply."""
    checked = CheckedAccessList()
    try:
        parser = AccessListParser()
        async for chunk in _csv_chunks(request, limit):
            checked.add(await asyncio.to_thread(parser.feed, chunk))
        checked.add(parser.finish())
        yield checked
    finally:
        checked.close()


async def _csv_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async for chunk in _file_field(request):
            yield chunk
        return
    pending = bytearray()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"the upload is larger than {limit} bytes")
        pending += chunk
        if len(pending) >= _PARSE_CHUNK_BYTES:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)


async def _file_field(request: Request) -> AsyncIterator[bytes]:
    # Starlette's parser reads the body as it arrives and spools the file part to disk;
    # the body limit middleware bounds what it reads.
    async with request.form(max_files=1, max_fields=16) as form:
        files = [value for value in form.values() if isinstance(value, UploadFile)]
        if len(files) != 1:
            raise Problem(400, "send the CSV as one file field of the multipart form")
        while chunk := await files[0].read(_PARSE_CHUNK_BYTES):
            yield chunk
