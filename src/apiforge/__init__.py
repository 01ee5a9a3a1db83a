"""apiforge: scaffold production-grade FastAPI services and keep them current."""

__version__ = "0.5.0"

__all__ = ["__version__"]
