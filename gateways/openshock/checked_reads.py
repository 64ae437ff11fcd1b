"""Bound-checked reading of a FlatBuffer through flatc's generated Python classes.

The flatbuffers runtime trusts its input: an offset past the end raises struct.error, a
negative one reads from the end of the frame (Python slicing), a string or vector length is
believed. A hub's frame is untrusted, so every generated object we read goes through
`checked`, which gives it a table whose every read checks that it lies inside the frame and
raises FrameError otherwise. The generated accessors stay the only code that knows the
layout; this module knows only the format's four building blocks (offsets, vtables,
strings, vectors).

Cost: each read checks a constant number of bounds, a string is copied once (at most the
frame's length), and a vector's length is bounded by the bytes behind it, so reading a frame
costs O(its size) whatever it claims.
"""

from __future__ import annotations

import struct
from typing import Any, TypeVar

from flatbuffers.table import Table

_UOFFSET = struct.Struct("<I")
_SOFFSET = struct.Struct("<i")
_VOFFSET = struct.Struct("<H")

T = TypeVar("T")


class FrameError(ValueError):
    """A frame that is not a valid message of the expected schema; the message says why."""


class _CheckedTable(Table):  # type: ignore[misc]
    """The runtime's Table with every read bound-checked (the runtime's own reads are not)."""

    __slots__ = ()

    def _uoffset(self, at: int) -> int:
        if at < 0 or at + 4 > len(self.Bytes):
            raise FrameError(f"offset at byte {at} lies outside the {len(self.Bytes)}-byte frame")
        value: int = _UOFFSET.unpack_from(self.Bytes, at)[0]
        return value

    def Get(self, flags: Any, off: int) -> Any:
        width: int = flags.bytewidth
        if off < 0 or off + width > len(self.Bytes):
            raise FrameError(f"a {width}-byte field at byte {off} lies outside the frame")
        return flags.py_type(flags.packer_type.unpack_from(self.Bytes, off)[0])

    def Offset(self, vtableOffset: int) -> int:
        if self.Pos + 4 > len(self.Bytes):
            raise FrameError(f"a table at byte {self.Pos} runs past the frame")
        vtable = self.Pos - _SOFFSET.unpack_from(self.Bytes, self.Pos)[0]
        if vtable < 0 or vtable + 4 > len(self.Bytes):
            raise FrameError(f"the vtable of the table at byte {self.Pos} lies outside the frame")
        vtable_size: int = _VOFFSET.unpack_from(self.Bytes, vtable)[0]
        if vtable_size < 4 or vtable_size % 2 or vtable + vtable_size > len(self.Bytes):
            raise FrameError(f"the table at byte {self.Pos} has a malformed vtable")
        if vtableOffset >= vtable_size:
            return 0  # a field the writer's schema did not have yet: absent
        field: int = _VOFFSET.unpack_from(self.Bytes, vtable + vtableOffset)[0]
        table_size: int = _VOFFSET.unpack_from(self.Bytes, vtable + 2)[0]
        if field and field >= table_size:
            raise FrameError(f"a field of the table at byte {self.Pos} lies outside the table")
        return field

    def Indirect(self, off: int) -> int:
        return off + self._uoffset(off)

    def String(self, off: int) -> bytes:
        start = off + self._uoffset(off)
        length = self._uoffset(start)
        if start + 4 + length > len(self.Bytes):
            raise FrameError(f"a {length}-byte string at byte {start} runs past the frame")
        return bytes(self.Bytes[start + 4 : start + 4 + length])

    def VectorLen(self, off: int) -> int:
        start = off + self.Pos
        start += self._uoffset(start)
        length = self._uoffset(start)
        # Every element takes at least one byte: a longer vector cannot be in the frame, and
        # a caller looping over it would only find that out element by element.
        if length > len(self.Bytes) - start - 4:
            raise FrameError(f"a vector of {length} elements at byte {start} runs past the frame")
        return length

    def Vector(self, off: int) -> int:
        start = off + self.Pos
        data: int = start + self._uoffset(start) + 4
        return data

    def Union(self, t2: Table, off: int) -> None:
        at = off + self.Pos
        t2.Pos = at + self._uoffset(at)
        t2.Bytes = self.Bytes


def checked(generated: T) -> T:
    """`generated` (a flatc-generated table or struct, already initialised) with its reads
    bound-checked."""
    tab = generated._tab  # type: ignore[attr-defined]
    buf, pos = tab.Bytes, tab.Pos
    if not isinstance(pos, int) or pos < 0 or pos >= len(buf):
        raise FrameError(f"an object at byte {pos} lies outside the {len(buf)}-byte frame")
    generated._tab = _CheckedTable(buf, pos)  # type: ignore[attr-defined]
    return generated


def checked_root(frame: bytes, root_class: type[T]) -> T:
    """The root table of `frame` (no file identifier), bound-checked."""
    if len(frame) < 8:
        raise FrameError(f"{len(frame)} bytes is too short for a FlatBuffer")
    root = root_class()
    root.Init(frame, _UOFFSET.unpack_from(frame, 0)[0])  # type: ignore[attr-defined]
    return checked(root)
