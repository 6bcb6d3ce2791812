"""The JSON API v1 (bearer tokens), one module per resource; `router` carries them all."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.api import callbacks, customers

router = APIRouter(prefix="/api/v1")
router.include_router(callbacks.router)
router.include_router(customers.router)
