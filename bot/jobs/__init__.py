"""Scheduled work: the scheduler, its lock and the registry of job handlers."""
