"""HTTP routes under /api/v1/order: thin, parse -> command -> handler -> response."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from servicekit.security import CurrentUserIdDep

from order_service.domain.model import TITLE_MAX_LENGTH, Item
from order_service.entrypoints.dependencies import OrderDeps
from order_service.service_layer import handlers
from order_service.service_layer.commands import CreateItem

router = APIRouter(prefix="/api/v1/order", tags=["order"])


class ItemIn(BaseModel):
    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH)


class ItemOut(BaseModel):
    id: str
    owner_id: str
    title: str

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(id=item.id, owner_id=item.owner_id, title=item.title)


@router.post("/items", status_code=201)
async def create_item(body: ItemIn, user_id: CurrentUserIdDep, deps: OrderDeps) -> ItemOut:
    item = await handlers.create_item(CreateItem(owner_id=user_id, title=body.title), deps.new_uow)
    return ItemOut.of(item)


@router.get("/items/{item_id}")
async def get_item(item_id: str, deps: OrderDeps) -> ItemOut:
    return ItemOut.of(await handlers.get_item(item_id, deps.new_uow))
