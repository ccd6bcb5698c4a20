"""GET /metrics and GET /metrics/{prefix} (observability issue)."""

from fastapi import APIRouter

metrics_router = APIRouter(tags=["metrics"])
