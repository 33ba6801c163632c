"""Development-only tools; never shipped in the production image (see ``.dockerignore``)."""
