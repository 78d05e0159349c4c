"""Protocols and training offers for office holders facing aggression, with search."""

from knowledge.base import Knowledge
from knowledge.model import KINDS, ROLES, TOPICS, Contact, Entry, Hit, KnowledgeError
from knowledge.render import render, render_more

__all__ = [
    "KINDS",
    "ROLES",
    "TOPICS",
    "Contact",
    "Entry",
    "Hit",
    "Knowledge",
    "KnowledgeError",
    "render",
    "render_more",
]
