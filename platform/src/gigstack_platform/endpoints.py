"""StoreEndpoint: how a service reaches one store server, whichever environment created it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from gigstack_platform.catalog import StoreKind


@dataclass
class StoreEndpoint:
    kind: StoreKind
    host: pulumi.Output[str]
    port: int
    username: pulumi.Input[str]
    password: pulumi.Output[str]
    tls: bool

    def address(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.host, ":", str(self.port))


def endpoints_annotation(endpoints: dict[str, StoreEndpoint]) -> pulumi.Output[str]:
    """`<service>=<host>:<port>` pairs for engines with one server per owning service."""
    pairs = [
        pulumi.Output.concat(service, "=", endpoint.address()) for service, endpoint in endpoints.items()
    ]
    return pulumi.Output.all(*pairs).apply(lambda values: ",".join(sorted(str(value) for value in values)))
