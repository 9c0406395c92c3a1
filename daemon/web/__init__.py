"""The local web service: app factory, API, dashboard, request guards, tokens, server."""
