"""Hypothesis profiles for the fuzz harness.

    pytest tests/fuzz                              # `ci` (tests/conftest.py): 150 examples per property
    pytest tests/fuzz --hypothesis-profile=long    # 5,000 per property, on demand

`ci` is the suite's own profile. `long` is registered again here with the harness's settings, and wins when
`tests/fuzz` is named on the command line: that makes this conftest one pytest reads before Hypothesis loads
the profile.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,  # the machine is shared: time is no property
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,  # a failure prints the blob that reproduces it (@reproduce_failure)
)
