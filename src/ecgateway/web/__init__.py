"""Web layer: FastAPI routers, Jinja2 pages, the JSON API."""
