"""Generate ``proto/``: the language-neutral contract of the messages.

- ``proto/schemas/<type>.json``: a JSON Schema per message, in and out;
- ``proto/asyncapi.json``: an AsyncAPI 3 document (exchanges, queues, routing
  keys, payloads);
- ``proto/examples/<type>.json``: one golden example per message.

Run ``make proto`` (``python -m service.messaging.proto_gen``) after changing a
message Struct; a test fails while the checked-in files differ from these.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import msgspec

from service.contracts import messages as m
from service.messaging import topology
from service.messaging.proto_examples import EXAMPLES

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto"


def tag_of(struct_type: type[msgspec.Struct]) -> str:
    tag = struct_type.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def generate() -> dict[str, bytes]:
    """Every file of proto/, by relative path."""
    files: dict[str, bytes] = {}
    for struct_type in (*m.COMMAND_TYPES, *m.EVENT_TYPES):
        tag = tag_of(struct_type)
        files[f"schemas/{tag}.json"] = _pretty(_clean_docs(msgspec.json.schema(struct_type)))
        files[f"examples/{tag}.json"] = _pretty(msgspec.to_builtins(EXAMPLES[tag]))
    files["asyncapi.json"] = _pretty(asyncapi())
    return files


def asyncapi() -> dict[str, Any]:
    all_types = (*m.COMMAND_TYPES, *m.EVENT_TYPES)
    _, components = msgspec.json.schema_components(
        all_types, ref_template="#/components/schemas/{name}"
    )
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Inventory service messages",
            "version": "1.0.0",
            "description": _DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}
        },
        "channels": _channels(),
        "operations": {
            "receiveCommands": {"action": "receive", "channel": {"$ref": "#/channels/commands"}},
            "sendEvents": {"action": "send", "channel": {"$ref": "#/channels/events"}},
            "sendReplies": {"action": "send", "channel": {"$ref": "#/channels/replies"}},
        },
        "components": {
            "messages": {tag_of(t): _message(t) for t in all_types},
            "schemas": _clean_docs(components),
        },
    }


_DESCRIPTION = (
    "Commands in on the topic exchange inventory.commands (routing key = the "
    "message type), consumed from the quorum queue inventory.commands; events out "
    "on inventory.events. Every message carries a message_id; a command delivered "
    "twice has one effect and gets identical replies. AMQP reply_to and "
    "correlation_id are honoured: the outcome is also sent to reply_to. Invalid "
    "commands are dead-lettered to inventory.commands.dead-letter with the reason "
    "in the x-inventory-error header. Every event and reply carries the AMQP "
    "correlation_id of what caused it: the HTTP request id (X-Request-ID), or the "
    "command's correlation_id, else its message_id. With tracing on, a W3C "
    "traceparent header names the trace (docs/operations.md)."
)


def _channels() -> dict[str, Any]:
    commands = f"Exchange {topology.COMMANDS_EXCHANGE}; queue {topology.COMMANDS_QUEUE}."
    events = f"Exchange {topology.EVENTS_EXCHANGE}: bind a queue with e.g. 'reservation.*'."
    return {
        "commands": {
            "address": "{message_type}",
            "description": commands,
            "parameters": {"message_type": {"description": "The command's type."}},
            "messages": _refs(m.COMMAND_TYPES),
            "bindings": _exchange(topology.COMMANDS_EXCHANGE),
        },
        "events": {
            "address": "{event_type}",
            "description": events,
            "parameters": {"event_type": {"description": "The event's type."}},
            "messages": _refs(m.EVENT_TYPES),
            "bindings": _exchange(topology.EVENTS_EXCHANGE),
        },
        "replies": {
            "address": None,
            "description": "The AMQP reply_to queue of a command: the same payload as its event.",
            "messages": _refs(m.EVENT_TYPES),
        },
    }


def _message(struct_type: type[msgspec.Struct]) -> dict[str, Any]:
    tag = tag_of(struct_type)
    return {
        "name": tag,
        "title": tag,
        "summary": (struct_type.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{struct_type.__name__}"},
        "bindings": {"amqp": {"messageType": tag, "bindingVersion": "0.3.0"}},
        "examples": [{"name": "golden", "payload": msgspec.to_builtins(EXAMPLES[tag])}],
    }


def _refs(types: tuple[type[msgspec.Struct], ...]) -> dict[str, Any]:
    return {tag_of(t): {"$ref": f"#/components/messages/{tag_of(t)}"} for t in types}


def _exchange(name: str) -> dict[str, Any]:
    exchange = {"name": name, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}
    return {"amqp": {"is": "routingKey", "exchange": exchange, "bindingVersion": "0.3.0"}}


def _clean_docs(schema: Any) -> Any:
    """Descriptions as ``inspect.cleandoc`` gives them: msgspec 0.23 dedents docstrings,
    0.22 did not, and proto/ must not depend on which one is installed."""
    if isinstance(schema, dict):
        return {
            key: inspect.cleandoc(value)
            if key == "description" and isinstance(value, str)
            else _clean_docs(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_clean_docs(item) for item in schema]
    return schema


def _pretty(value: object) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def write(directory: Path = PROTO_DIR) -> list[str]:
    """Write every generated file; returns the relative paths that changed."""
    changed = []
    for relative, content in generate().items():
        path = directory / relative
        if not path.exists() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            changed.append(relative)
    return changed


if __name__ == "__main__":
    changed = write()
    print(f"proto/: {len(changed)} file(s) written" + "".join(f"\n  {c}" for c in changed))
    sys.exit(0)
