"""proto/ is the contract other teams code against: it must match the code."""

from __future__ import annotations

import msgspec
import pytest

from service.contracts import messages
from service.messaging.proto_gen import PROTO_DIR, generate, tag_of


def test_the_checked_in_proto_files_are_what_the_message_structs_generate() -> None:
    expected = generate()
    on_disk = {
        str(path.relative_to(PROTO_DIR)): path.read_bytes() for path in PROTO_DIR.rglob("*.json")
    }
    stale = sorted(name for name in expected if on_disk.get(name) != expected[name])
    extra = sorted(set(on_disk) - set(expected))
    assert not stale, f"run `make proto`: these files are stale: {stale}"
    assert not extra, f"these files in proto/ are not generated: {extra}"


@pytest.mark.parametrize("struct_type", messages.COMMAND_TYPES, ids=tag_of)
def test_every_golden_command_example_decodes_with_the_consumers_decoder(
    struct_type: type[msgspec.Struct],
) -> None:
    body = (PROTO_DIR / "examples" / f"{tag_of(struct_type)}.json").read_bytes()
    assert isinstance(messages.command_decoder.decode(body), struct_type)


@pytest.mark.parametrize("struct_type", messages.EVENT_TYPES, ids=tag_of)
def test_every_golden_event_example_decodes_as_its_event(struct_type: type[msgspec.Struct]) -> None:
    body = (PROTO_DIR / "examples" / f"{tag_of(struct_type)}.json").read_bytes()
    assert isinstance(messages.event_decoder.decode(body), struct_type)


def test_the_asyncapi_document_names_every_message_and_the_exchanges() -> None:
    document = msgspec.json.decode((PROTO_DIR / "asyncapi.json").read_bytes())
    assert document["asyncapi"].startswith("3.")
    names = set(document["components"]["messages"])
    assert names == {tag_of(t) for t in (*messages.COMMAND_TYPES, *messages.EVENT_TYPES)}
    exchanges = {
        channel["bindings"]["amqp"]["exchange"]["name"]
        for channel in document["channels"].values()
        if "bindings" in channel
    }
    assert exchanges == {"inventory.commands", "inventory.events"}


def test_proto_holds_data_only() -> None:
    assert not list(PROTO_DIR.rglob("*.py"))
