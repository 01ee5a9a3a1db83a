from src.db.repositories.refresh_token import RefreshTokenRepository
from src.db.repositories.user import UserRepository

__all__ = ["RefreshTokenRepository", "UserRepository"]
