from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Context, CurrentActor
from app.api.schemas.messages import DeliveryOut, MessageIn, MessageResultOut, SignalIn, SignalResultOut
from app.services import messages, signals

router = APIRouter(prefix="/messages", tags=["messages"])


@router.post("", response_model=MessageResultOut, summary="Correlate a message",
             responses={202: {"description": "No receiver yet; the message was buffered"},
                        404: {"description": "Nobody waits for this message (and buffer was false)"},
                        409: {"description": "More than one receiver and all was false"}},
             description="Deliver a named message to the instance waiting for it (matched by business key and/or "
                         "correlation values keyed by correlation property id), or start an instance through a "
                         "message start event of the latest version.")
def correlate(ctx: Context, actor: CurrentActor, body: MessageIn, response: Response) -> MessageResultOut:
    result = messages.correlate_message(ctx, actor=actor, name=body.name, business_key=body.business_key,
                                        correlation=body.correlation, variables=body.variables, all=body.all,
                                        buffer=body.buffer)
    if result.buffered_id is not None:
        response.status_code = 202
    return MessageResultOut(deliveries=[DeliveryOut.model_validate(d) for d in result.deliveries],
                            buffered=result.buffered_id is not None, buffered_id=result.buffered_id)


signals_router = APIRouter(prefix="/signals", tags=["messages"])


@signals_router.post("", response_model=SignalResultOut, summary="Throw a signal",
                     description="Broadcast to every instance waiting for the signal and every process that starts "
                                 "with it (admins and integration workers).")
def throw_signal(ctx: Context, actor: CurrentActor, body: SignalIn) -> SignalResultOut:
    deliveries = signals.broadcast(ctx, actor=actor, name=body.name, variables=body.variables)
    return SignalResultOut(deliveries=[DeliveryOut.model_validate(d) for d in deliveries])
