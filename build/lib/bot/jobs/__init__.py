"""Scheduled jobs of the operator's kit: reminders, retention, partner token refresh.

Each job is a small object holding only long-lived factories; each run opens its own
database session. ``bot/scheduler.py`` puts them on the APScheduler schedule.
"""
