"""Alerts: rules evaluated against every node's samples and status, notified through Apprise channels."""
