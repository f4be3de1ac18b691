"""Random ids for events and replies: version-4 UUIDs in hex, as ``uuid.uuid4().hex``
gives, but cut from one ``os.urandom`` read per 256 ids instead of a system call per id
(a visible share of the worker's CPU on a message drain; docs/performance.md)."""

from __future__ import annotations

import os

_IDS_PER_READ = 256
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # variant and version bits
_SET = (0x8000 << 48) | (0x4000 << 64)  # RFC 4122 variant, version 4


class _RandomBytes:
    def __init__(self) -> None:
        self.buffer = b""
        self.at = 0

    def take16(self) -> bytes:
        if self.at >= len(self.buffer):
            self.buffer, self.at = os.urandom(16 * _IDS_PER_READ), 0
        self.at += 16
        return self.buffer[self.at - 16 : self.at]

    def forget(self) -> None:
        """A forked child must not hand out its parent's ids."""
        self.buffer, self.at = b"", 0


_random = _RandomBytes()
os.register_at_fork(after_in_child=_random.forget)


def new_id() -> str:
    """A fresh random id: 32 hex digits, a valid version-4 UUID."""
    return f"{(int.from_bytes(_random.take16()) & _CLEAR) | _SET:032x}"
