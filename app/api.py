"""The `/api` router: every domain router is listed here explicitly."""

from fastapi import APIRouter

from app.auth.router import auth_router

api_router = APIRouter()
api_router.include_router(auth_router, prefix="/auth")
