"""CORS for the widget routes only: pages on the app's origins may call them, nothing else.

Starlette's `CORSMiddleware` answers the preflights and adds the headers; this wrapper hands
it only the widgets' paths, so the API's key-authenticated routes never answer a browser on
another origin.
"""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

WIDGET_PATHS = ("/v1/widget/",)
"""The routes a widget calls from the browser with its token."""


class WidgetCors:
    """Starlette's CORS for `WIDGET_PATHS`, the app itself for every other path."""

    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route the request through CORS when it is for a widget path."""
        if scope["type"] == "http" and scope["path"].startswith(WIDGET_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
