"""Fake external services for the tests, reached over real HTTP on 127.0.0.1."""
