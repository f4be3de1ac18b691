"""Integrations post movements; staff and auditors read a balance's ledger."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter

from service.api.auth import principal_of, requires
from service.api.context import actor_of, runtime
from service.api.examples import MOVEMENTS, body
from service.api.openapi import problems
from service.api.params import IdempotencyKey, LocationIdPath, SkuPath
from service.contracts.stock import (
    BalanceView,
    MovementPage,
    MovementsPosted,
    PostMovements,
    SafetyStockIn,
)
from service.usecases import movement_history, stock


class StockController(Controller):
    path = "/v1/stock"
    tags = ["stock"]

    @post(
        "/movements",
        status_code=200,
        opt=requires("stock.write", at_path_location=False),
        responses=problems(400, 401, 403, 409, 413, 422),
    )
    async def post_movements(
        self,
        request: Request[Any, Any, Any],
        state: State,
        data: Annotated[PostMovements, body(MOVEMENTS)],
        idempotency_key: IdempotencyKey,
    ) -> MovementsPosted:
        """Apply a batch of movements, all or none. Never refused for lack of stock."""
        rt = runtime(state)
        return await stock.post_movements(
            rt.db,
            data,
            idempotency_key=idempotency_key,
            caller=principal_of(request).caller,
            actor=actor_of(request),
            max_batch=rt.settings.max_movements_per_batch,
        )

    @get(
        "/{sku:str}/locations/{location_id:str}/movements",
        opt=requires("stock.read"),
        responses=problems(400, 401, 403, 404, 422),
    )
    async def list_movements(
        self,
        state: State,
        sku: SkuPath,
        location_id: LocationIdPath,
        cursor: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> MovementPage:
        """One balance's ledger, newest first; follow ``next_cursor`` for older rows."""
        return await movement_history.movements_page(
            runtime(state).db, location_id, sku, cursor=cursor, limit=limit
        )

    @put(
        "/{sku:str}/locations/{location_id:str}/safety-stock",
        opt=requires("stock.write"),
        responses=problems(400, 401, 403, 404, 413, 422),
    )
    async def set_safety_stock(
        self, state: State, sku: SkuPath, location_id: LocationIdPath, data: JSONBody[SafetyStockIn]
    ) -> BalanceView:
        """Set one balance's safety stock; ``null`` returns it to the location default."""
        rt = runtime(state)
        return await stock.set_safety_stock(rt.db, location_id, sku, data.safety_stock)
