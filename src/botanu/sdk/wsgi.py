"""Old import path of the WSGI middleware, kept for users; code in `botanu.integrations.wsgi`."""

from botanu.integrations.wsgi import BotanuWSGIMiddleware

__all__ = ["BotanuWSGIMiddleware"]
