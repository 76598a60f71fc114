from __future__ import annotations

from typing import Any

from pydantic import Field

from app.api.schemas.common import Schema


class MessageIn(Schema):
    name: str = Field(min_length=1, max_length=255, description="The message name as in the model.")
    business_key: str | None = Field(default=None, max_length=255,
                                     description="Only instances with this business key; a started instance gets it.")
    correlation: dict[str, Any] = Field(default_factory=dict,
                                        description="Correlation values by correlation property id (JSON equality).")
    variables: dict[str, Any] = Field(default_factory=dict, description="The payload, merged into the receiver.")
    all: bool = Field(default=False, description="Deliver to every matching receiver instead of refusing (409).")
    buffer: bool = Field(default=False, description="No receiver yet: keep the message (202) instead of a 404.")


class DeliveryOut(Schema):
    instance_id: str
    element_id: str | None
    started: bool = Field(description="True when a message start event started this instance.")


class MessageResultOut(Schema):
    deliveries: list[DeliveryOut]
    buffered: bool = False
    buffered_id: str | None = None


class SignalIn(Schema):
    name: str = Field(min_length=1, max_length=255, description="The signal name as in the model.")
    variables: dict[str, Any] = Field(default_factory=dict, description="Merged into every receiver.")


class SignalResultOut(Schema):
    deliveries: list[DeliveryOut] = Field(description="Every instance the signal reached or started (may be "
                                                      "empty: a signal nobody waits for is not an error).")
