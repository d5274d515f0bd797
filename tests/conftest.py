from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests without their own example count take it from the profile: a few hundred in CI,
# thousands on demand (`pytest --hypothesis-profile=long`).
settings.register_profile("ci", max_examples=150, deadline=None)
settings.register_profile("long", max_examples=3000, deadline=None)
# Only when no profile was chosen: `pytest tests/fuzz` reads this file after Hypothesis has loaded the one
# named by --hypothesis-profile, which this would otherwise replace.
if settings.get_current_profile_name() == "default":
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the user's ~/.cache/reach."""
    os.environ["REACH_CACHE_DIR"] = str(tmp_path_factory.mktemp("reach-cache"))
