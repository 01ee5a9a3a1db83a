"""apiforge: scaffold production-grade FastAPI services and keep them current."""

__version__ = "0.4.0"

__all__ = ["__version__"]
