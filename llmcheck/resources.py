"""Where the shipped data files (resources/) are: a checkout, a wheel, or a PyInstaller bundle.

In a wheel and in the bundle, ``resources/`` sits inside the package as ``llmcheck/resources``;
in a source checkout (``pip install -e .``) it is the top-level ``resources/`` folder.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path


def resource_root() -> Traversable:
    """The folder that holds catalog/, json-schema/, icons/ and the tables."""
    inside = resources.files("llmcheck") / "resources"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Traversable:
    """One file or folder under the resource root."""
    node = resource_root()
    for part in parts:
        node = node / part
    return node
