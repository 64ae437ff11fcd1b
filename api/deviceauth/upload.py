"""Reading an access-list upload: raw CSV or a multipart form, never more than the limit."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from api.problem import Problem


async def read_upload(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the upload is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"the upload is larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        return body
    request._body = body  # let Starlette's form parser read what we already buffered
    form = await request.form()
    files = [value for value in form.values() if isinstance(value, UploadFile)]
    if len(files) != 1:
        raise Problem(400, "send the CSV as one file field of the multipart form")
    return await files[0].read()
