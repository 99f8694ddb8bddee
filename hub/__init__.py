"""Forge hub: ingest, fleet API, SSE, job queue and the web dashboard."""
