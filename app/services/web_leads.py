"""Leads from a website form: API keys per source (admin-made, stored as hashes, revocable, scoped to one
process) and the lead itself, checked and deduplicated like an imported row, idempotent and rate-limited."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.actor import Actor
from app.auth.permissions import require_admin
from app.db.base import utcnow
from app.db.models import ApiKey, LeadRequest
from app.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, Problem, RateLimited, ValidationFailed
from app.services.context import AppContext
from app.services.deployments import find_definition
from app.services.lead_dedupe import find_matches, first_match
from app.services.lead_imports import lead_form
from app.services.lead_intake import add_note, start_lead
from app.services.lead_messages import describe, reason
from app.services.lead_rules import build_lead

KEY_PREFIX = "vlk_"
MAX_IDEMPOTENCY_KEY = 255


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(ctx: AppContext, *, actor: Actor, name: str, definition_key: str,
                   source: str | None = None) -> tuple[ApiKey, str]:
    """The secret is returned this once; only its sha256 is kept (a 256-bit random key needs no slow hash)."""
    require_admin(actor)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with ctx.db.transaction() as session:
        definition = find_definition(session, key=definition_key)
        if source is not None:
            spec = next((f for f in lead_form(definition) if f.get("id") == "source"), None)
            options = [o.get("id") for o in (spec or {}).get("options") or []]
            if spec is None or (options and source not in options):
                raise InvalidInput(f"source {source!r} is not a lead source of {definition_key!r}"
                                   + (f"; one of: {', '.join(map(str, options))}" if options else ""),
                                   problems=[Problem("unknown source", field="source")])
        key = ApiKey(name=name, prefix=secret[:12], key_hash=_hash(secret), definition_key=definition.key,
                     source=source, created_by=actor.username, created_at=utcnow())
        session.add(key)
        session.flush()
        return key, secret


def list_api_keys(ctx: AppContext, *, actor: Actor) -> list[ApiKey]:
    require_admin(actor)
    with ctx.db.read() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_api_key(ctx: AppContext, *, actor: Actor, key_id: str) -> ApiKey:
    require_admin(actor)
    with ctx.db.transaction() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise NotFound(f"API key {key_id} not found")
        key.revoked_at = key.revoked_at or utcnow()
        return key


def post_lead(ctx: AppContext, *, api_key: str | None, idempotency_key: str | None, body: Any) -> dict[str, Any]:
    """`{"status": "created" | "duplicate", "deal_id", "matched"?}`; the same Idempotency-Key with the same
    body answers the first answer again, with another body it is a 409."""
    if not api_key:
        raise NotAuthenticated("send the source's key in the X-Api-Key header")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object of the lead's fields", problems=[Problem("not an object")])
    body_hash = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    try:
        return _post(ctx, api_key, idempotency_key, body, body_hash)
    except IntegrityError:  # the same Idempotency-Key raced in: the other request's answer is the answer
        return _post(ctx, api_key, idempotency_key, body, body_hash)


def _post(ctx: AppContext, api_key: str, idempotency_key: str | None, body: dict[str, Any],
          body_hash: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(api_key)))
        if key is None or key.revoked_at is not None:
            raise NotAuthenticated("the API key is unknown or revoked")
        if idempotency_key is not None:
            earlier = session.scalar(select(LeadRequest).where(LeadRequest.api_key_id == key.id,
                                                               LeadRequest.idempotency_key == idempotency_key))
            if earlier is not None:
                if earlier.body_sha256 != body_hash:
                    raise Conflict("this Idempotency-Key was used with another lead; use a new key per lead")
                return earlier.response
        now = utcnow()
        window = now - timedelta(seconds=60)
        recent = session.scalar(select(func.count()).select_from(LeadRequest).where(
            LeadRequest.api_key_id == key.id, LeadRequest.at > window)) or 0
        if recent >= ctx.settings.lead_rate_per_minute:
            raise RateLimited(f"this key may post {ctx.settings.lead_rate_per_minute} leads a minute",
                              retry_after=60)
        definition = find_definition(session, key=key.definition_key)
        form = lead_form(definition)
        unknown = sorted(set(body) - {f["id"] for f in form})
        if unknown:
            raise ValidationFailed(f"unknown fields: {', '.join(unknown)}; the lead form has "
                                   f"{', '.join(f['id'] for f in form)}",
                                   problems=[Problem("unknown field", field=name) for name in unknown])
        lead = build_lead(form, body, defaults={"source": key.source} if key.source else None)
        if lead.problems:
            problems = [Problem(describe(reason(code, row=0, **args)).split(": ", 1)[-1], field=column)
                        for column, code, args in lead.problems]
            raise ValidationFailed("; ".join(f"{p.field}: {p.message}" for p in problems), problems=problems)
        actor = Actor(f"api-key:{key.name}"[:255])
        match = first_match(lead.keys, find_matches(session, definition_key=definition.key, keys=lead.keys,
                                                    window_days=ctx.settings.lead_dedupe_days))
        if match is not None:
            add_note(session, match[1], actor=actor, lead=lead, data={"api_key": key.name})
            response: dict[str, Any] = {"status": "duplicate", "deal_id": match[1], "matched": match[0]}
        else:
            instance = start_lead(ctx, session, definition, lead, actor=actor, savepoint=False,
                                  event_data={"api_key": key.name})
            response = {"status": "created", "deal_id": instance.id, "matched": None}
        session.add(LeadRequest(api_key_id=key.id, idempotency_key=idempotency_key, body_sha256=body_hash,
                                response=response, at=now))
        key.last_used_at = now
        return response
