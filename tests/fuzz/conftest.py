"""Hypothesis profiles for the fuzz harness.

    pytest tests/fuzz                              # `ci`: a few hundred examples per property (the default)
    pytest tests/fuzz --hypothesis-profile=long    # thousands, on demand

The profile must be registered before Hypothesis's pytest plugin loads it, which is why the long run names
`tests/fuzz` on the command line: that makes this conftest one pytest reads before starting.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # the machine is shared: time is no property
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    "print_blob": True,  # a failure prints the blob that reproduces it (@reproduce_failure)
}
settings.register_profile("ci", max_examples=300, **_COMMON)
settings.register_profile("long", max_examples=5000, **_COMMON)

if settings.get_current_profile_name() == "default":
    settings.load_profile("ci")
