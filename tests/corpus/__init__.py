"""The answer corpus (issue 11, item 8): what today's service answers to a fixed
script of HTTP requests and command messages, so that a refactor of how routes and
messages are handled inside can show it changed no answer.

- ``scenes/``: the script, as data. Each scene starts on an empty database with the
  callers of ``steps.KEYS``; a step says what a client sends (``steps.Http``,
  ``steps.Publish``), never what it expects. A new route or message is a new step.
- ``answers/<scene>.json``: what main answered to each step, recorded by
  ``make corpus``, normalised (``normalise.py``) and written for reading
  (``record.py``). Re-recording is a deliberate act: only when an answer is meant to
  change, with the diff reviewed.
- ``tests/integration/test_answer_corpus.py`` plays every scene on the real
  PostgreSQL and RabbitMQ and compares, naming each step that answers otherwise.
- ``player.py`` plays a step (``asgi.py`` for HTTP), ``settle.py`` waits until it
  has no effect left in flight and catches replies, events and dead letters.
"""
