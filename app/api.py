"""The `/api` router: every domain router is listed here explicitly.

FastAPI tries included routers in the order they are listed, route by route, so list a
busy domain router before the others (README, "Performance", puts a figure on it).
"""

from fastapi import APIRouter

from app.auth.router import auth_router

api_router = APIRouter()
api_router.include_router(auth_router, prefix="/auth")
