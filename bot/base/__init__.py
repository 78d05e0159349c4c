"""The kernel: messages, clock, settings, crypto and log safety. Imports no other project package."""
