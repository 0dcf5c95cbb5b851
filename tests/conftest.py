"""Suite-wide test settings."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# CI machines are small and shared: judge properties, not the speed of data generation.
settings.register_profile(
    "nbflow", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("nbflow")
