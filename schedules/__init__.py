"""Scheduled crawls: schedule files (YAML), the APScheduler runner and the run history."""
