"""Credentials shared by both environments: store passwords, gateway keys, SMTP and Stripe credentials."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
import pulumi_tls as tls


def generated_password(name: str, parent: pulumi.Resource, length: int = 32) -> pulumi.Output[str]:
    """A password every engine accepts and that needs no URL escaping ('-' and '_' only as specials)."""
    password = random.RandomPassword(
        name,
        length=length,
        special=True,
        override_special="-_",
        min_upper=1,
        min_lower=1,
        min_numeric=1,
        min_special=1,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return pulumi.Output.secret(password.result)


@dataclass
class ServiceKeys:
    """Secret values that are not store credentials, keyed like the services' settings."""

    values: dict[str, dict[str, pulumi.Output[str]]]
    internal_token_public_key: pulumi.Output[str]


class GatewayAndMailKeys(pulumi.ComponentResource):
    """Gateway's Ed25519 internal-token key pair and access-token key; notification's SMTP credentials."""

    keys: ServiceKeys

    def __init__(
        self,
        name: str,
        smtp_username: pulumi.Output[str],
        smtp_password: pulumi.Output[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        stripe_secret_key: pulumi.Output[str] | None = None,
        stripe_webhook_secret: pulumi.Output[str] | None = None,
    ):
        super().__init__("gigstack:platform:GatewayAndMailKeys", name, None, opts)
        signing_key = tls.PrivateKey(
            f"{name}-internal-token", algorithm="ED25519", opts=pulumi.ResourceOptions(parent=self)
        )
        access_token_secret = generated_password(f"{name}-access-token-secret", self, length=64)
        self.keys = ServiceKeys(
            values={
                "gateway": {
                    "ACCESS_TOKEN_SECRET": access_token_secret,
                    "INTERNAL_TOKEN_PRIVATE_KEY": pulumi.Output.secret(signing_key.private_key_pem_pkcs8),
                },
                "notification": {
                    "SMTP_USERNAME": pulumi.Output.secret(smtp_username),
                    "SMTP_PASSWORD": pulumi.Output.secret(smtp_password),
                },
                # Operator-provided (stack config secrets), never generated: they belong to a Stripe account.
                "order": {
                    "STRIPE_SECRET_KEY": pulumi.Output.secret(stripe_secret_key or ""),
                    "PAYMENT_WEBHOOK_SECRET": pulumi.Output.secret(stripe_webhook_secret or ""),
                },
            },
            internal_token_public_key=signing_key.public_key_pem,
        )
        self.register_outputs({"internal_token_public_key": signing_key.public_key_pem})
