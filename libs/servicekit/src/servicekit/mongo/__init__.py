"""MongoDB-compatible stores (MongoDB, DocumentDB, FerretDB v1): the client and versioned aggregates.

`create_mongo_client` builds PyMongo's own async client with timeouts; `MongoUnitOfWork` and
`VersionedRepository` store one aggregate per document with a `version` field and optimistic concurrency,
its outbox events written by the same single-document update (`servicekit.events.mongo`).
"""

from servicekit.mongo.client import create_mongo_client
from servicekit.mongo.unit_of_work import (
    VERSION_FIELD,
    ConcurrentUpdateError,
    DocumentExistsError,
    MongoUnitOfWork,
    VersionedRepository,
)

__all__ = [
    "VERSION_FIELD",
    "ConcurrentUpdateError",
    "DocumentExistsError",
    "MongoUnitOfWork",
    "VersionedRepository",
    "create_mongo_client",
]
