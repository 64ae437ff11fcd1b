"""DeviceAuth request and response bodies, as the seed names their fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.deviceauth.public_keys import MAX_KEY_TEXT_LENGTH


class DeviceAuthInformation(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    public_key: str | None = Field(
        default=None,
        alias="publicKey",
        description="The public key that will verify the device's challenge response.",
    )
    unknown: bool = Field(
        description="True unless the device has a usable key and passed a challenge with it."
    )


class DeviceAuthEntry(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    device_identifier: str = Field(alias="deviceIdentifier")
    information: DeviceAuthInformation | None = None


class SetPublicKeyBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    public_key: str = Field(
        alias="publicKey",
        min_length=1,
        max_length=MAX_KEY_TEXT_LENGTH,
        description="PEM, base64 of PEM (as in the CSV upload) or base64 of DER.",
    )
