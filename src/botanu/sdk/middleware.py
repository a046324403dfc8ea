"""Old import path of the ASGI middleware, kept for users; code in `botanu.integrations.asgi`."""

from botanu.integrations.asgi import BotanuMiddleware

__all__ = ["BotanuMiddleware"]
