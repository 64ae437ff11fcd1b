"""OpenShock's REST API (v1 and v2)."""

# Its routes are versioned by their first segment (no other surface starts with one), and
# GET /1 is its meta route.
OPENSHOCK_PATHS = ("/1/", "/2/")
OPENSHOCK_ROOT = "/1"
