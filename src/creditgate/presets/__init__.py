"""Presets: whole catalogs a team can start from, shipped as readable catalog files.

A preset is data, not code: each one is a TOML file in exactly the format of a team's own
catalog file, so what a team reads is what it gets, and copying one into its repository is
all it takes to start. Each file says which kind of app it fits and where its numbers come
from; `load` checks it with the same parser as any other catalog file, so a preset can never
hold a price the catalog would refuse.
"""

import tomllib
from importlib import resources

from creditgate.domain.catalog import Catalog, parse_catalog
from creditgate.domain.errors import InvalidInput

PRESETS: tuple[str, ...] = (
    "demo",
    "image-models",
    "media-studio",
    "org-features",
    "token-credits",
    "video-models",
)
"""The preset names, sorted: each is the file `<name>.toml` in this package."""


def text(name: str) -> str:
    """The catalog file of a preset, as written (comments included), for showing it.

    Args:
        name: One of `PRESETS`.

    Returns:
        The file's text.

    Raises:
        InvalidInput: `name` is not a preset.
    """
    if name not in PRESETS:
        raise InvalidInput(field="preset", reason=f"one of: {', '.join(PRESETS)}")
    return resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load(name: str) -> Catalog:
    """A preset's catalog, parsed and checked like any catalog file.

    Args:
        name: One of `PRESETS`.

    Returns:
        The catalog the preset's file describes.

    Raises:
        InvalidInput: `name` is not a preset (or, for a broken file, the problem found in it).
    """
    return parse_catalog(tomllib.loads(text(name)))
