"""All models, imported here so `Base.metadata` knows every table (Alembic relies on it)."""

from src.db.models.base import Base
from src.db.models.refresh_token import RefreshToken
from src.db.models.user import User

__all__ = ["Base", "RefreshToken", "User"]
