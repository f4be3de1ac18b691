"""Batched acknowledgements: one ``basic.ack(multiple=True)`` for many messages.

Messages finish out of order (the reservation engine answers a whole batch at
once). A delivery tag may be acked with ``multiple`` only when it and every
earlier tag on the channel are settled, i.e. committed (or already nacked or
dead-lettered). ``AckWindow`` tracks that and says how far a single ack may go.
"""

from __future__ import annotations

from collections import deque


class AckWindow:
    """Delivery tags in order; ``settle`` returns the tag up to which everything
    may now be acked in one go (None when the oldest is still being worked on)."""

    def __init__(self) -> None:
        self._open: deque[int] = deque()
        self._settled: dict[int, bool] = {}  # tag -> still to be acked (False: nacked already)

    def delivered(self, tag: int) -> None:
        self._open.append(tag)

    def settle(self, tag: int, *, ack: bool = True) -> int | None:
        """``ack=False`` for a tag already nacked on its own: it is skipped, never acked."""
        self._settled[tag] = ack
        upto = None
        while self._open and self._open[0] in self._settled:
            oldest = self._open.popleft()
            if self._settled.pop(oldest):
                upto = oldest
        return upto

    def reset(self) -> None:
        """The channel was reopened: old tags mean nothing any more."""
        self._open.clear()
        self._settled.clear()

    def __len__(self) -> int:
        return len(self._open)
