"""Kubernetes: the pure Job-manifest builder and the only code that talks to the API server."""
