"""The MongoDB unit of work: one command's writes, applied on commit."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from servicekit.mongo import MongoUnitOfWork

from order_service.adapters.repository import ItemRepository


class OrderUnitOfWork(MongoUnitOfWork):
    def __init__(self, database: AsyncDatabase[Any]) -> None:
        super().__init__(database)
        self.items = ItemRepository(self)
