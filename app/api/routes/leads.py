"""Leads from website forms (`POST /leads` with an API key) and the keys themselves (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response

from app.api.deps import Context, CurrentActor
from app.api.schemas.common import Page
from app.api.schemas.leads import ApiKeyCreated, ApiKeyIn, ApiKeyOut, LeadAccepted
from app.services import web_leads

router = APIRouter(tags=["leads"])


@router.post("/leads", status_code=202, response_model=LeadAccepted, summary="A lead from a website form",
             description="Authenticated by the source's `X-Api-Key` alone (no user). The body holds the lead "
                         "form's fields (`company`, `contact`, `contact_phone`, `contact_email`, `inn`, `segment`, "
                         "`comment`, ...), checked like an imported row (phone, e-mail, INN, required fields: "
                         "422 names the field). A lead matching a deal (phone, e-mail, INN or company) is added to "
                         "that deal as a note and answered with `status: duplicate`. Send an `Idempotency-Key` "
                         "to make retries safe: the same key and body answer the first answer again. At most "
                         "`VORONKA_LEAD_RATE_PER_MINUTE` leads a minute per key (429 with Retry-After). See "
                         "docs/leads.md for an HTML snippet.")
def post_lead(ctx: Context, body: Annotated[dict[str, Any], Body()],
              x_api_key: Annotated[str | None, Header()] = None,
              idempotency_key: Annotated[str | None, Header()] = None) -> LeadAccepted:
    answer = web_leads.post_lead(ctx, api_key=x_api_key, idempotency_key=idempotency_key, body=body)
    return LeadAccepted(**answer)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, summary="Create a lead source key",
             description="Admins. The key (`key`) is shown in this answer only; it may start leads of "
                         "`definition_key` and nothing else.")
def create_key(ctx: Context, actor: CurrentActor, body: ApiKeyIn) -> ApiKeyCreated:
    key, secret = web_leads.create_api_key(ctx, actor=actor, name=body.name, definition_key=body.definition_key,
                                           source=body.source)
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=secret)


@router.get("/api-keys", response_model=Page[ApiKeyOut], summary="Lead source keys (admins)")
def list_keys(ctx: Context, actor: CurrentActor) -> Page[ApiKeyOut]:
    keys = web_leads.list_api_keys(ctx, actor=actor)
    return Page[ApiKeyOut](items=[ApiKeyOut.model_validate(k) for k in keys], total=len(keys))


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke a key",
               description="Leads posted with it are refused (401) from now on; the key stays listed.")
def revoke_key(ctx: Context, actor: CurrentActor, key_id: str) -> Response:
    web_leads.revoke_api_key(ctx, actor=actor, key_id=key_id)
    return Response(status_code=204)
