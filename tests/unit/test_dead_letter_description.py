"""What ``inventory dlq list`` says about a dead letter, from its body and headers."""

from __future__ import annotations

from datetime import UTC, datetime

from service.messaging.dead_letter_queue import describe


def test_a_dead_letter_of_the_consumer_names_its_reason_time_and_count() -> None:
    headers = {
        "x-inventory-error": "invalid_input",
        "x-inventory-error-detail": "ttl_seconds: too long",
        "x-inventory-failed-at": 1_800_000_000,
        "x-original-routing-key": "reservation.create",
        "x-inventory-dead-lettered": 2,
    }
    body = b'{"type": "reservation.create", "message_id": "m-1"}'
    info = describe(body, headers, None, "reservation.create")
    assert (info.message_id, info.command, info.reason) == (
        "m-1",
        "reservation.create",
        "invalid_input",
    )
    assert info.detail == "ttl_seconds: too long"
    assert info.dead_lettered_at == datetime.fromtimestamp(1_800_000_000, UTC)
    assert info.times == 2
    assert info.routing_key == "reservation.create"


def test_a_dead_letter_of_the_broker_names_the_broker_reason_and_the_original_key() -> None:
    died = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    headers = {
        "x-death": [
            {
                "count": 1,
                "reason": "delivery_limit",
                "queue": "inventory.commands",
                "time": died,
                "routing-keys": ["pickup.book"],
            }
        ]
    }
    info = describe(
        b'{"type": "pickup.book", "message_id": "b-1"}', headers, None, "inventory.commands"
    )
    assert info.reason == "broker:delivery_limit"
    assert info.routing_key == "pickup.book"
    assert info.dead_lettered_at == died
    assert info.times == 1


def test_a_body_that_is_not_json_is_named_by_its_amqp_id_or_else_its_hash() -> None:
    headers = {"x-inventory-error": "undecodable"}
    assert describe(b"{nope", headers, "amqp-7", "stock.movements").message_id == "amqp-7"
    unnamed = describe(b"{nope", headers, None, "stock.movements")
    assert unnamed.message_id.startswith("sha256:")
    assert len(unnamed.message_id) == len("sha256:") + 16
    assert unnamed.command == "(not a command)"
    assert unnamed.times == 1
