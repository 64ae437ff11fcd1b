"""The HTTP and websocket transport under `hubline serve`: uvicorn, with Hubline's limits."""
