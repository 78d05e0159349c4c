"""The generated case store the figures are checked against."""

from __future__ import annotations

import pytest

from bot.base.clock import FixedClock
from bot.store import Store
from tests.features.insights.generated import Generated, generate


@pytest.fixture
async def generated(store: Store, clock: FixedClock) -> Generated:
    return await generate(store, clock)
