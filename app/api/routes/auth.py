"""Signing in and out: the OAuth2 password flow, logout, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import Context, CurrentActor, OptionalActor, client_address
from app.api.schemas.identity import MeOut, PasswordChange, TokenOut
from app.auth.sessions import clear_session, is_https, issue_access_token
from app.services import identity, logins

router = APIRouter(tags=["authentication"])


@router.post("/auth/token", response_model=TokenOut, summary="Get an access token (OAuth2 password flow)",
             description="Form fields `username` and `password`. Answers a short-lived bearer token (JWT). "
                         "Wrong credentials are a 401; after too many failures for the user or the address, "
                         "a 429 with Retry-After.")
def token(ctx: Context, request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    actor = logins.login_with_password(ctx, username=form.username, password=form.password,
                                       address=client_address(request))
    issued = issue_access_token(ctx, actor)
    return TokenOut(access_token=issued.token, expires_in=issued.lifetime_seconds)


@router.post("/auth/logout", status_code=204, summary="Sign out everywhere",
             description="Clears the session cookie and revokes every token issued to the signed-in user so far "
                         "(all browsers and clients). Without valid credentials it only clears the cookie.")
def logout(ctx: Context, request: Request, actor: OptionalActor) -> Response:
    if actor is not None:
        logins.revoke_tokens(ctx, actor=actor)
    response = Response(status_code=204)
    clear_session(response, secure=is_https(request))
    return response


@router.get("/me", response_model=MeOut, summary="Who am I", description="The signed-in user and their groups.")
def me(ctx: Context, actor: CurrentActor) -> MeOut:
    user = identity.me(ctx, actor=actor)
    return MeOut(username=user.username, display_name=user.display_name, email=user.email, locale=user.locale,
                 groups=sorted(actor.groups), is_admin=actor.is_admin, sees_all_work=actor.sees_all_work,
                 can_deploy=actor.can_deploy)


@router.put("/me/password", status_code=204, summary="Change my password",
            description="Needs the current password (rate-limited like a sign-in). Revokes every token issued "
                        "so far; sign in again afterwards.")
def change_my_password(ctx: Context, request: Request, actor: CurrentActor, body: PasswordChange) -> Response:
    identity.change_own_password(ctx, actor=actor, current_password=body.current_password,
                                 new_password=body.new_password, address=client_address(request))
    response = Response(status_code=204)
    clear_session(response, secure=is_https(request))
    return response
