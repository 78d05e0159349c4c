"""A copy of the shipped knowledge content to break on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.base import ROOT


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content that a test may change."""
    root = tmp_path / "knowledge"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root
