"""Selling pages: become a seller, edit the seller profile, create and edit gigs (cover straight to the object
store), pause and reactivate them; and the upload-planning endpoint every direct upload uses.

URLs (linked from the header's "Selling" and from the gig and seller pages):
``/selling`` dashboard, ``/selling/become``, ``/selling/profile``, ``/selling/gigs/new``,
``/selling/gigs/{id}/edit``, ``POST /selling/gigs/{id}/active``, ``POST /media/uploads`` (JSON, for
static/js/upload.js).

A seller's id is their user id (users service). Every write goes through the gateway, which owns the rules;
a refusal (4xx) re-renders the form with the gateway's message and the user's input.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from storefront_service.gateway_client import GatewayError, SignedOutError
from storefront_service.pages.trade_common import (
    FormErrors,
    clean_file_name,
    major_units,
    parse_int,
    parse_list,
    parse_money,
    remember_file_name,
    signed_in_user,
)
from storefront_service.web import DepsDep, SessionDep, form_error, redirect, render

router = APIRouter()

LANGUAGE_LEVELS = ("basic", "conversational", "fluent", "native")
LANGUAGE_ROWS = 3
MEDIA_AREAS = ("gigs", "chat", "deliveries")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# --- seller profile -----------------------------------------------------------------------------------------


def _profile_values(profile: dict[str, Any] | None) -> dict[str, Any]:
    """A SellerOut as the form's field values."""
    if profile is None:
        return {"response_time_hours": "24"}
    values: dict[str, Any] = {
        "full_name": profile.get("full_name", ""),
        "one_liner": profile.get("one_liner", ""),
        "description": profile.get("description", ""),
        "skills": ", ".join(profile.get("skills", [])),
        "social_links": "\n".join(profile.get("social_links", [])),
        "response_time_hours": str(profile.get("response_time_hours", "")),
        "revision": str(profile.get("revision", "")),
    }
    for index, language in enumerate(profile.get("languages", [])[:LANGUAGE_ROWS]):
        values[f"language_{index}"] = language.get("language", "")
        values[f"level_{index}"] = language.get("level", "")
    return values


def _profile_from_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    """(the values to re-render, the SellerIn body, errors found before asking the gateway)."""
    errors = FormErrors()
    values: dict[str, Any] = {
        name: _text(form, name)
        for name in ("full_name", "one_liner", "description", "skills", "social_links", "response_time_hours")
    }
    values["revision"] = _text(form, "revision")
    languages = []
    for index in range(LANGUAGE_ROWS):
        language, level = _text(form, f"language_{index}"), _text(form, f"level_{index}")
        values[f"language_{index}"], values[f"level_{index}"] = language, level
        if not language:
            continue
        if level not in LANGUAGE_LEVELS:
            errors.add(f"level_{index}", "Choose a level for this language.")
        languages.append({"language": language, "level": level})
    if not languages:
        errors.add("language_0", "Add at least one language you work in.")
    for name, label in (("full_name", "your name"), ("one_liner", "a one-line summary")):
        if not values[name]:
            errors.add(name, f"Enter {label}.")
    if len(values["description"]) < 20:
        errors.add("description", "Describe your work in at least 20 characters.")
    skills = parse_list(values["skills"])
    if not skills:
        errors.add("skills", "Add at least one skill.")
    hours = parse_int(values["response_time_hours"], "response_time_hours", errors, low=1, high=168)
    body = {
        "full_name": values["full_name"],
        "one_liner": values["one_liner"],
        "description": values["description"],
        "skills": skills,
        "languages": languages,
        "social_links": parse_list(values["social_links"], separator="\n"),
        "response_time_hours": hours,
    }
    return values, body, errors


async def _my_profile(deps: Any, session: Any, user_id: str) -> dict[str, Any] | None:
    try:
        profile: dict[str, Any] = await deps.gateway.call(
            "sellers.byId", path={"seller_id": user_id}, session=session
        )
    except GatewayError as error:
        if error.status_code == 404:
            return None
        raise
    return profile


def _render_profile_form(
    request: Request,
    *,
    becoming: bool,
    values: dict[str, Any],
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "selling/profile_form.html",
        {
            "becoming": becoming,
            "values": values,
            "levels": LANGUAGE_LEVELS,
            "language_rows": range(LANGUAGE_ROWS),
            **(extra or {}),
        },
        status_code=status_code,
    )


@router.get("/selling")
async def dashboard(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    profile = await _my_profile(deps, session, user.id)
    active: list[dict[str, Any]] = []
    paused: list[dict[str, Any]] = []
    if profile is not None:
        active = (await deps.gateway.call("gigs.bySeller", path={"seller_id": user.id}))["items"]
        paused = (
            await deps.gateway.call("gigs.pausedBySeller", path={"seller_id": user.id}, session=session)
        )["items"]
    return render(
        request, "selling/dashboard.html", {"profile": profile, "active_gigs": active, "paused_gigs": paused}
    )


@router.get("/selling/become")
async def become_form(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    if await _my_profile(deps, session, user.id) is not None:
        return redirect("/selling/profile")
    return _render_profile_form(request, becoming=True, values=_profile_values(None))


@router.post("/selling/become")
async def become(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    values, body, errors = _profile_from_form(await request.form())
    if errors:
        return _render_profile_form(
            request, becoming=True, values=values, extra=errors.context(), status_code=400
        )
    try:
        await deps.gateway.call("sellers.create", json=body, session=session)
    except GatewayError as error:
        context = form_error(error)
        if error.status_code == 404:
            # users creates the buyer profile from the account event: a brand-new account may be ahead of it.
            context["error"] = "Your account is still being set up. Please try again in a few seconds."
        elif error.status_code == 409:
            return redirect("/selling/profile")
        return _render_profile_form(
            request, becoming=True, values=values, extra=context, status_code=error.status_code
        )
    session.flash("You are a seller now. Create your first gig.", "success")
    return redirect("/selling", request)


@router.get("/selling/profile")
async def profile_form(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    profile = await _my_profile(deps, session, user.id)
    if profile is None:
        return redirect("/selling/become")
    return _render_profile_form(request, becoming=False, values=_profile_values(profile))


@router.post("/selling/profile")
async def update_profile(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    form = await request.form()
    values, body, errors = _profile_from_form(form)
    revision = parse_int(values["revision"] or "0", "revision", errors, low=1, high=2**31)
    if errors:
        return _render_profile_form(
            request, becoming=False, values=values, extra=errors.context(), status_code=400
        )
    current = await _my_profile(deps, session, user.id)
    if current is None:
        return redirect("/selling/become")
    # Sections this form does not edit are sent back as they are (the update replaces the whole profile).
    for kept in ("experience", "education", "certificates"):
        body[kept] = current.get(kept, [])
    try:
        await deps.gateway.call(
            "sellers.update",
            path={"seller_id": user.id},
            json={**body, "revision": revision},
            session=session,
        )
    except GatewayError as error:
        context = form_error(error)
        if error.status_code == 409:
            context["error"] = (
                "Your profile was changed elsewhere meanwhile. Your edits are kept below; save again to "
                "apply them over the newer version."
            )
            values["revision"] = str(current.get("revision", values["revision"]))
        return _render_profile_form(
            request, becoming=False, values=values, extra=context, status_code=error.status_code
        )
    session.flash("Your seller profile was saved.", "success")
    return redirect("/selling", request)


# --- gigs ---------------------------------------------------------------------------------------------------


def _gig_values(gig: dict[str, Any] | None) -> dict[str, Any]:
    if gig is None:
        return {"delivery_days": "3", "currency": "USD"}
    return {
        "title": gig.get("title", ""),
        "description": gig.get("description", ""),
        "category": gig.get("category", ""),
        "tags": ", ".join(gig.get("tags", [])),
        "price": major_units(gig.get("price")),
        "currency": gig.get("currency", "USD"),
        "delivery_days": str(gig.get("delivery_days", "")),
        "cover_image_key": gig.get("cover_image_key") or "",
        "version": str(gig.get("version", "")),
    }


def _gig_from_form(form: FormData) -> tuple[dict[str, Any], dict[str, Any], FormErrors]:
    errors = FormErrors()
    names = (
        "title",
        "description",
        "category",
        "tags",
        "price",
        "delivery_days",
        "cover_image_key",
        "version",
    )
    values: dict[str, Any] = {name: _text(form, name) for name in names}
    values["currency"] = "USD"
    for name, label in (("title", "a title"), ("description", "a description"), ("category", "a category")):
        if not values[name]:
            errors.add(name, f"Enter {label}.")
    price = parse_money(values["price"], "price", errors)
    days = parse_int(values["delivery_days"], "delivery_days", errors, low=1, high=365)
    body: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "category": values["category"],
        "tags": parse_list(values["tags"]),
        "price": price,
        "currency": values["currency"],
        "delivery_days": days,
        "cover_image_key": values["cover_image_key"] or None,
    }
    return values, body, errors


def _render_gig_form(
    request: Request,
    *,
    gig: dict[str, Any] | None,
    values: dict[str, Any],
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "selling/gig_form.html",
        {"gig": gig, "values": values, **(extra or {})},
        status_code=status_code,
    )


async def _own_gig(deps: Any, session: Any, gig_id: str, user_id: str) -> dict[str, Any]:
    """The gig if it is this seller's; another seller's gig is answered like a missing one."""
    gig: dict[str, Any] = await deps.gateway.call("gigs.byId", path={"gig_id": gig_id}, session=session)
    if gig.get("seller_id") != user_id:
        raise GatewayError(404, "not_found", "There is no gig of yours here.")
    return gig


@router.get("/selling/gigs/new")
async def new_gig_form(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    if await _my_profile(deps, session, user.id) is None:
        session.flash("Become a seller first: your profile is what buyers see next to your gigs.", "info")
        return redirect("/selling/become")
    return _render_gig_form(request, gig=None, values=_gig_values(None))


@router.post("/selling/gigs/new")
async def create_gig(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    signed_in_user(session)
    values, body, errors = _gig_from_form(await request.form())
    if errors:
        return _render_gig_form(request, gig=None, values=values, extra=errors.context(), status_code=400)
    try:
        gig = await deps.gateway.call("gigs.create", json=body, session=session)
    except GatewayError as error:
        return _render_gig_form(
            request, gig=None, values=values, extra=form_error(error), status_code=error.status_code
        )
    session.flash(f"Your gig “{gig['title']}” is published.", "success")
    return redirect(f"/gigs/{gig['id']}", request)


@router.get("/selling/gigs/{gig_id}/edit")
async def edit_gig_form(gig_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    gig = await _own_gig(deps, session, gig_id, user.id)
    return _render_gig_form(request, gig=gig, values=_gig_values(gig))


@router.post("/selling/gigs/{gig_id}/edit")
async def update_gig(gig_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    values, body, errors = _gig_from_form(await request.form())
    version = parse_int(values["version"] or "0", "version", errors, low=1, high=2**31)
    gig = await _own_gig(deps, session, gig_id, user.id)
    if errors:
        return _render_gig_form(request, gig=gig, values=values, extra=errors.context(), status_code=400)
    changes = dict(body)
    if not changes["cover_image_key"]:
        changes.pop("cover_image_key")  # no new cover: keep the current one
    try:
        updated = await deps.gateway.call(
            "gigs.update", path={"gig_id": gig_id}, json={**changes, "version": version}, session=session
        )
    except GatewayError as error:
        context = form_error(error)
        if error.status_code == 409:
            context["error"] = (
                "This gig was changed elsewhere meanwhile. Your edits are kept below; save again to apply "
                "them over the newer version."
            )
            values["version"] = str(gig.get("version", values["version"]))
        return _render_gig_form(request, gig=gig, values=values, extra=context, status_code=error.status_code)
    session.flash(f"“{updated['title']}” was saved.", "success")
    return redirect(f"/gigs/{gig_id}", request)


@router.post("/selling/gigs/{gig_id}/active")
async def set_gig_active(gig_id: str, request: Request, deps: DepsDep, session: SessionDep) -> Response:
    user = signed_in_user(session)
    form = await request.form()
    active = _text(form, "active") == "true"
    gig = await _own_gig(deps, session, gig_id, user.id)
    try:
        await deps.gateway.call(
            "gigs.setActive",
            path={"gig_id": gig_id},
            json={"active": active, "version": gig["version"]},
            session=session,
        )
    except GatewayError as error:
        session.flash(error.message, "error")
        return redirect("/selling", request)
    session.flash(f"“{gig['title']}” is {'live again' if active else 'paused'}.", "success")
    return redirect("/selling", request)


# --- direct uploads -----------------------------------------------------------------------------------------


@router.post("/media/uploads")
async def plan_upload(request: Request, deps: DepsDep, session: SessionDep) -> Response:
    """For static/js/upload.js: media.createUpload's presigned form as JSON, or ``{"message"}`` and a 4xx."""
    if not session.signed_in:
        return JSONResponse({"message": "Please sign in again to upload files."}, status_code=401)
    form = await request.form()
    area = _text(form, "area")
    if area not in MEDIA_AREAS:
        return JSONResponse({"message": "This kind of upload is not supported."}, status_code=400)
    errors = FormErrors()
    size = parse_int(_text(form, "size"), "size", errors, low=1, high=2**40)
    if size is None:
        return JSONResponse({"message": "The file is empty or its size is unknown."}, status_code=400)
    body = {"area": area, "content_type": _text(form, "content_type").lower(), "size": size}
    try:
        planned = await deps.gateway.call("media.createUpload", json=body, session=session)
    except GatewayError as error:
        return JSONResponse({"message": error.message}, status_code=error.status_code)
    except SignedOutError:
        # A script asked, not a page: it shows this message instead of following the sign-in redirect.
        return JSONResponse({"message": "Please sign in again to upload files."}, status_code=401)
    await remember_file_name(
        deps.redis, str(planned.get("key", "")), clean_file_name(_text(form, "filename"))
    )
    keep = ("key", "url", "fields", "max_bytes", "content_types", "expires_at")
    return JSONResponse({name: planned.get(name) for name in keep}, headers={"Cache-Control": "no-store"})
