"""The HTTP edge: Litestar app factory, controllers, error mapping."""
