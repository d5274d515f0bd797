"""Settings every fuzz property shares, on top of the profile's example count (tests/conftest.py):

    pytest tests/fuzz                              # `ci`: 150 examples per property
    pytest tests/fuzz --hypothesis-profile=long    # `long`: 3,000 per property, on demand
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Inputs are files and whole command lines: slow and large by design, and a failure prints the blob that
# reproduces it (@reproduce_failure).
fuzz_settings = settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
