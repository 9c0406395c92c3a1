"""Backups the seller can trust: snapshot (while the daemon runs), verify, restore, schedule."""
