"""Test-wide set-up: Qt renders offscreen unless a developer asks for a real display."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTEST_QT_API", "pyside6")

# The bandwidth cache (llmcheck.probe.bandwidth_cache) lives in the user's cache folder; no test
# may read a developer's real one or leave one behind. Child processes inherit this.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="llmcheck-test-cache-")
os.environ["LOCALAPPDATA"] = os.environ["XDG_CACHE_HOME"]
