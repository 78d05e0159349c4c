"""The hypothesis profile of the cross-cutting guarantees."""

from __future__ import annotations

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Fixtures such as the store are shared by every example on purpose: each example is a new
# reporter, and what one example leaves behind is exactly what the next must survive.
hypothesis_settings.register_profile(
    "trust",
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
