"""The `/api` router: every domain router is listed here explicitly."""

from fastapi import APIRouter

api_router = APIRouter()
