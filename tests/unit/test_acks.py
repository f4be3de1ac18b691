"""A batched ack never covers a message that is still being processed."""

from __future__ import annotations

from service.messaging.acks import AckWindow


def window_with(*tags: int) -> AckWindow:
    window = AckWindow()
    for tag in tags:
        window.delivered(tag)
    return window


def test_a_later_message_finishing_first_is_not_acked_past_an_open_one() -> None:
    window = window_with(1, 2, 3)
    assert window.settle(2) is None
    assert window.settle(3) is None


def test_when_the_oldest_finishes_everything_settled_behind_it_is_acked_at_once() -> None:
    window = window_with(1, 2, 3, 4)
    window.settle(3)
    window.settle(2)
    assert window.settle(1) == 3
    assert window.settle(4) == 4
    assert len(window) == 0


def test_in_order_settling_acks_each_tag() -> None:
    window = window_with(5, 6)
    assert window.settle(5) == 5
    assert window.settle(6) == 6


def test_a_nacked_message_is_never_the_tag_of_a_batched_ack() -> None:
    window = window_with(1, 2, 3)
    assert window.settle(3, ack=False) is None
    assert window.settle(2) is None
    assert window.settle(1) == 2  # 3 was nacked on its own: acking it again is a channel error
