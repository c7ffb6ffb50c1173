"""``vigil serve``: the REST API under /api/v1, API tokens and authentication.

``vigil.api.auth`` holds the dependencies other areas' routers use; ``vigil.api.app``
builds the ASGI application.
"""
