"""The RabbitMQ edge: topology, the command consumer, the outbox relay, the worker."""
