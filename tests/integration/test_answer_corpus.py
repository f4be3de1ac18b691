"""The answer corpus: every route and every command message, played from a fixed
script (``tests/corpus/scenes/``) and compared with the answers recorded from main
(``tests/corpus/answers/``), byte for byte once ids and times are normalised
(``tests/corpus/normalise.py``). ``make corpus`` records them again, deliberately."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aio_pika.abc import AbstractRobustConnection

from service.api.app import create_app
from service.messaging.worker import Worker
from service.runtime import Runtime
from service.settings import Settings
from service.storage.change_feed import BALANCES_CHANNEL
from service.usecases.keys import ensure_keys
from tests.corpus import pretty
from tests.corpus.player import Player
from tests.corpus.scenes import SCENES
from tests.corpus.settle import FeedWatch
from tests.corpus.steps import KEYS

ANSWERS = Path(__file__).parent.parent / "corpus" / "answers"
RECORDING = os.environ.get("ANSWER_CORPUS") == "record"
AN_HOUR_S = 3600.0


@pytest.fixture(scope="module")
async def corpus_runtime(messaging_settings: Settings) -> AsyncIterator[tuple[Runtime, FeedWatch]]:
    """A replica whose clock-driven work never fires during a run: the player calls the
    availability announcer itself after each step (tests/corpus/settle.py), and no
    reservation or pickup of the script comes near its expiry. Its cache is not warmed,
    so that which SKUs memory holds follows from the script alone; the player watches
    its change feed to know when a step's notifications have arrived."""
    settings = msgspec.structs.replace(
        messaging_settings,
        availability_event_window_s=AN_HOUR_S,
        sweep_interval_s=AN_HOUR_S,
        availability_cache_warm=False,
    )
    runtime = await Runtime.start(settings)
    watch = FeedWatch()
    runtime.feed.subscribe(BALANCES_CHANNEL, watch)
    yield runtime, watch
    await runtime.stop()


@pytest.fixture
async def player(
    corpus_runtime: tuple[Runtime, FeedWatch], clean: None, broker: AbstractRobustConnection
) -> AsyncIterator[Player]:
    """A player on an empty database, with the callers of KEYS and a running worker."""
    rt, watch = corpus_runtime
    rt.keys.forget("*")
    rt.read_model.reset()
    await rt.read_model.locations.load()
    await ensure_keys(
        rt.db,
        [
            (
                f"corpus-{name}",
                f"corpus {name}",
                key.role,
                list(key.locations),
                "not-a-secret-corpus-only",
            )
            for name, key in KEYS.items()
        ],
    )
    worker = Worker(rt)
    await worker.start()
    playing = Player(create_app(runtime=rt), rt, watch, worker)
    await playing.open(broker)
    yield playing
    await playing.close()
    await worker.stop()


@pytest.mark.parametrize("scene", list(SCENES))
async def test_every_step_of_the_scene_answers_as_recorded_on_main(
    scene: str, player: Player
) -> None:
    played = [await player.play(step) for step in SCENES[scene]]
    path = ANSWERS / f"{scene}.json"
    if RECORDING:
        path.parent.mkdir(exist_ok=True)
        path.write_text(pretty.dumps(played) + "\n")
        return
    assert path.exists(), f"no answers recorded for the scene {scene!r}: make corpus"
    recorded = json.loads(path.read_text())
    differences = list(_differences(recorded, played))
    assert not differences, f"{len(differences)} step(s) of {scene!r}:\n\n" + "\n\n".join(
        differences
    )


def test_every_scene_names_each_of_its_steps_once_and_has_its_answers_file() -> None:
    for scene, steps in SCENES.items():
        names = [step.name for step in steps]
        twice = {name for name in names if names.count(name) > 1}
        assert not twice, f"{scene}: step names used twice: {twice}"
    assert sorted(p.stem for p in ANSWERS.glob("*.json")) == sorted(SCENES)


def _differences(recorded: list[dict[str, Any]], played: list[dict[str, Any]]) -> Iterator[str]:
    """Readable differences, each naming its step."""
    was = {r["step"]: r for r in recorded}
    now = {p["step"]: p for p in played}
    if list(was) != list(now):
        yield "the script's steps are not the recorded ones (make corpus):\n" + _diff(
            list(was), list(now)
        )
    for name, answer in now.items():
        if name in was and was[name] != answer:
            yield f"step {name!r} answers otherwise:\n" + _diff(was[name], answer)


def _diff(was: Any, now: Any) -> str:
    lines = [pretty.dumps(x).splitlines() for x in (was, now)]
    return "\n".join(difflib.unified_diff(*lines, "recorded", "played", lineterm="", n=2))
