"""`ObjectStoreSettings`: the object-store variables, mixed into a service's settings (no prefix).

Combine it with `servicekit.settings.ServiceSettings` (`class GigSettings(ServiceSettings,
ObjectStoreSettings)`): that base's validator then refuses a placeholder `OBJECT_STORE_SECRET_ACCESS_KEY`
outside development and test, as for every other secret. Without static keys (both unset) the AWS default
credential chain applies: IRSA's web identity on eks.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ObjectStoreSettings"]

BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"


class ObjectStoreSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", hide_input_in_errors=True
    )

    object_store_bucket: str = Field(pattern=BUCKET_NAME, description="The bucket holding every media object")
    object_store_endpoint: str | None = Field(
        default=None,
        description="S3 API base URL the service calls (s3proxy locally); unset: AWS's regional endpoint",
    )
    object_store_public_endpoint: str | None = Field(
        default=None,
        description="Base URL browsers POST uploads to, when it differs from OBJECT_STORE_ENDPOINT",
    )
    object_store_region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{2,32}$")
    object_store_access_key_id: str | None = None
    object_store_secret_access_key: SecretStr | None = None
    object_store_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    object_store_upload_expiry_seconds: int = Field(default=600, ge=60, le=3600)

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> ObjectStoreSettings:
        if (self.object_store_access_key_id is None) != (self.object_store_secret_access_key is None):
            raise ValueError(
                "OBJECT_STORE_ACCESS_KEY_ID and OBJECT_STORE_SECRET_ACCESS_KEY are set together or not at all"
            )
        return self
