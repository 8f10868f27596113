"""Schemas of the complaint channels: the WhatsApp Cloud API webhook, the SMS gateway, social mentions, operators.

The WhatsApp models follow Meta's Cloud API webhook payload (object
"whatsapp_business_account", entry[].changes[].value with messages[] and contacts[]) and
ignore the fields GRMS does not use, so a payload Meta extends still parses.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from grms_gateway.schemas.complaints import FileComplaintIn

__all__ = [
    "ImportOut",
    "ImportResultOut",
    "MentionIn",
    "OperatorEntryIn",
    "SmsIn",
    "SmsOut",
    "SocialImportIn",
    "SubmitterIn",
    "WaPayload",
    "WebhookOut",
]

# What a channel's delivery id may hold: visible ASCII, as the complaints service requires.
_DELIVERY = r"^[\x21-\x7e]{1,100}$"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WaProfile(_Lenient):
    name: str = ""


class WaContact(_Lenient):
    wa_id: str = ""
    profile: WaProfile = WaProfile()


class WaText(_Lenient):
    body: str = ""


class WaImage(_Lenient):
    """An image message's media: fetched through the Graph API by `id`."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,100}$")
    mime_type: str = ""
    sha256: str = ""
    caption: str = ""


class WaLocation(_Lenient):
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""


class WaMessage(_Lenient):
    id: str
    # The sender's number in international format without "+", e.g. "6281225550101".
    from_: str = Field(alias="from")
    timestamp: str = ""
    type: str
    text: WaText | None = None
    image: WaImage | None = None
    location: WaLocation | None = None


class WaValue(_Lenient):
    messaging_product: str = ""
    contacts: list[WaContact] = []
    messages: list[WaMessage] = []


class WaChange(_Lenient):
    field: str = ""
    value: WaValue = WaValue()


class WaEntry(_Lenient):
    id: str = ""
    changes: list[WaChange] = []


class WaPayload(_Lenient):
    object: str
    entry: list[WaEntry] = []


class WebhookOut(BaseModel):
    """What a webhook delivery made: new complaints, redeliveries, ignored and refused messages."""

    received: int = Field(description="New complaints filed (from a text, or an image with a caption)")
    duplicates: int = Field(description="Messages filed before (a redelivery); nothing new stored")
    attached: int = Field(
        0, description="Images without caption and locations joined to the sender's complaint of the last minutes"
    )
    ignored: int = Field(
        description="Messages GRMS does not take (reactions, …; an image or location with no recent complaint)"
    )
    rejected: int = Field(description="Messages the complaints service refused (too short, not an image, …)")


class SmsIn(_Lenient):
    """One SMS as the gateway posts it, as JSON or as a form."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: str = Field(alias="from", min_length=5, max_length=30, description="The sender's number")
    text: str = Field(min_length=1, max_length=5000)
    id: str = Field(pattern=_DELIVERY, description="The SMS gateway's message id: the same id is the same SMS")


class SmsOut(BaseModel):
    ticket_id: str
    duplicate_delivery: bool
    pin: str = Field(description="Only for a new complaint; the SMS gateway sends `reply` back to the sender")
    reply: str = Field(description="The text to answer the sender with")


class MentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(pattern=r"^[a-z][a-z0-9_]{1,19}$", description='Like "twitter", "instagram", "facebook"')
    post_id: str = Field(pattern=_DELIVERY)
    author_handle: str = Field(pattern=r"^@?[A-Za-z0-9_.\-]{1,100}$")
    author_name: str = Field("", max_length=200)
    text: str = Field(min_length=1, max_length=4000)
    url: str = Field(pattern=r"^https://\S{1,490}$")


class SocialImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    government_code: Annotated[str, Field(pattern=r"^\d{2}(\.\d{2})?$")] = "33"
    mentions: list[MentionIn] = Field(min_length=1, max_length=100)


class ImportResultOut(BaseModel):
    platform: str
    post_id: str
    outcome: Literal["created", "duplicate", "rejected"]
    ticket_id: str
    errors: list[dict[str, str]] = []


class ImportOut(BaseModel):
    created: int
    duplicates: int
    rejected: int
    results: list[ImportResultOut]


class SubmitterIn(BaseModel):
    """A village head filing on behalf of the complainant (the villager)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    village_code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$", description='Like "33.74.01.1001"')
    role: Literal["kepala_desa", "lurah"] = "kepala_desa"


class OperatorEntryIn(FileComplaintIn):
    """A complaint a complaints officer types in from a phone call or a visit."""

    channel: Literal["hotline", "walk_in"]  # type: ignore[assignment]
    submitted_by: SubmitterIn | None = None
