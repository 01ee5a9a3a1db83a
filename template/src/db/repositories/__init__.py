from src.db.repositories.rate_limit import RateLimitRepository
from src.db.repositories.refresh_token import RefreshTokenRepository
from src.db.repositories.user import UserRepository

__all__ = ["RateLimitRepository", "RefreshTokenRepository", "UserRepository"]
