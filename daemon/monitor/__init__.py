"""Monitoring: ingest of pushed pages, the pipeline jobs, scheduler, alert rules, notifications."""
