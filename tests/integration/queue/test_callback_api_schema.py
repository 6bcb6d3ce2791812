"""`GET /api/v1/callbacks/{id}` is documented field by field: a client generated from
/openapi.json gets typed replies, calls, earlier callbacks, consent and script, and what
the route answers fits what it documents."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlmodel import select

from bot.bootstrap import App, open_app
from bot.db.models import Callback, Staff
from bot.service.admin.staff import issue_token
from bot.service.callbacks.detail import callback_detail
from bot.service.callbacks.outcomes import CallOutcome, record_outcome
from bot.service.callbacks.queue import claim_next
from bot.web.api.models import CallbackPage
from bot.web.app import create_app
from tests.integration.queue.test_callback_page import _close_earlier, _with_conversation
from tests.integration.queue.test_queue import NOW

_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
    "boolean": bool, "null": type(None)}


def check(value: Any, schema: dict[str, Any], spec: dict[str, Any], path: str = "$") -> None:
    """Assert a JSON value fits an OpenAPI schema, as far as FastAPI's schemas go ($ref,
    anyOf, type, properties, required, items); no undocumented keys."""
    if "$ref" in schema:
        check(value, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], spec, path)
        return
    if "anyOf" in schema:
        problems = []
        for option in schema["anyOf"]:
            try:
                return check(value, option, spec, path)
            except AssertionError as exc:
                problems.append(str(exc))
        raise AssertionError(f"{path}: fits no option: {problems}")
    kind = schema.get("type")
    if kind is None:
        return
    is_bool = isinstance(value, bool)
    assert isinstance(value, _JSON_TYPES[kind]) and (kind == "boolean" or not is_bool), (
        f"{path}: {value!r} is not {kind}")
    if kind == "object" and "properties" in schema:
        properties = schema["properties"]
        missing = set(schema.get("required", ())) - value.keys()
        assert not missing, f"{path}: missing {sorted(missing)}"
        assert value.keys() <= properties.keys(), f"{path}: undocumented {value.keys() - properties.keys()}"
        for key, item in value.items():
            check(item, properties[key], spec, f"{path}.{key}")
    if kind == "array":
        for i, item in enumerate(value):
            check(item, schema.get("items", {}), spec, f"{path}[{i}]")


async def _new_account_callback_with_history(app: App) -> tuple[int, str, dict[str, Staff]]:
    """A new-account callback with a reply, one no-answer call and an earlier callback; the
    callback id, an agent's bearer token and the staff."""
    people = await _with_conversation(app)
    await _close_earlier(app, people["agent_sh"], range(1, 2))
    async with app.sessions() as s:
        callback = (await s.exec(select(Callback).where(Callback.status == "open"))).one()
        callback.reasons = json.dumps(["new_account"])
        s.add(callback)
        token = (await issue_token(s, "agent_sh", actor="test"))[1]
        await s.commit()
    cid = await claim_next(app.engine, people["agent_sh"], app.settings, NOW)
    assert cid is not None
    async with app.sessions() as s:
        await record_outcome(s, cid, people["agent_sh"], CallOutcome("no_answer", dialled="138"),
                             app.settings, NOW)
        await s.commit()
    return cid, token, people


async def test_the_callback_page_is_documented_field_by_field_and_its_answer_fits(
        app: App) -> None:
    cid, token, _ = await _new_account_callback_with_history(app)
    async with open_app(app.settings.model_copy(update={"docs_public": True})) as public:
        transport = httpx.ASGITransport(app=create_app(public))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            spec = (await client.get("/openapi.json")).json()
            answer = await client.get(f"/api/v1/callbacks/{cid}",
                                      headers={"Authorization": f"Bearer {token}"})
    schemas = spec["components"]["schemas"]
    route = spec["paths"]["/api/v1/callbacks/{callback_id}"]["get"]
    assert route["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CallbackPage"}
    page = schemas["CallbackPage"]["properties"]
    assert page["conversation"]["items"] == {"$ref": "#/components/schemas/ConversationMessage"}
    assert page["earlier_callbacks"]["items"] == {"$ref": "#/components/schemas/EarlierCallback"}
    assert page["consent"] == {"$ref": "#/components/schemas/Consent"}
    reply = schemas["ConversationMessage"]["properties"]
    assert {"intent", "confidence", "cues", "status", "text"} <= reply.keys()
    assert (reply["cues"]["type"], reply["cues"]["items"]) == ("array", {"type": "string"})
    assert {"type": "number"} in reply["confidence"]["anyOf"]
    assert schemas["EarlierCallback"]["properties"]["calls"]["items"] == {
        "$ref": "#/components/schemas/CallRecord"}
    assert "from" in schemas["SuggestedCall"]["required"]
    assert schemas["CallScript"]["properties"]["points"]["items"] == {
        "$ref": "#/components/schemas/ScriptPoint"}
    assert {"CallbackState", "CustomerCard", "Address"} <= schemas.keys()

    assert answer.status_code == 200
    body = answer.json()
    check(body, schemas["CallbackPage"], spec)
    assert body["conversation"][1]["cues"] == ["complaint +2.0 '投诉'"]
    assert [c["outcome"] for c in body["calls"]] == ["no_answer"]
    assert [c["notes"] for c in body["earlier_callbacks"][0]["calls"]] == ["1 个月前回访"]
    assert [p["code"] for p in body["script"]["points"]][:1] == ["own_will"]
    assert body["callback"]["suggested_call"]["from"]


async def test_the_typed_models_keep_every_field_the_page_has(app: App) -> None:
    """The route answers the service's content through CallbackPage: nothing may be lost
    or changed on the way."""
    cid, _, people = await _new_account_callback_with_history(app)
    async with app.sessions() as s:
        detail = await callback_detail(s, cid, people["hq"], app.settings, NOW)
    typed = CallbackPage.model_validate(detail).model_dump(mode="json", by_alias=True)
    assert typed == detail
