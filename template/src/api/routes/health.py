import asyncio
import logging

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from src.api.deps import SessionDep
from src.api.responses import error_responses
from src.core.exceptions import ServiceUnavailableError
from src.schemas.common import HealthStatus

READINESS_TIMEOUT_SECONDS = 5.0

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
async def liveness() -> HealthStatus:
    """The process is up; does not touch the database."""
    return HealthStatus()


@router.get("/ready", responses=error_responses(503))
async def readiness(session: SessionDep) -> HealthStatus:
    """Ready to serve: the database answers `SELECT 1`."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await session.execute(text("SELECT 1"))
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        logger.warning("not ready: database check failed with %s", exc.__class__.__name__)
        raise ServiceUnavailableError("The database is not reachable.") from exc
    return HealthStatus()
