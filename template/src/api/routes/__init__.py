from fastapi import APIRouter

from src.api.routes import auth, health, users

api_router = APIRouter(prefix="/api")
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(health.router)
