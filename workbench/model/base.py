"""Shared model configuration and identifier types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from workbench.model.ids import SLUG_PATTERN

# Ids appear in file names, SSH principals and bundle paths, so they are kept to a strict,
# path-safe alphabet (no "/", no "..", no spaces).
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]

# A reference to a person in the registry. The schema accepts any short string so that
# validation can explain *why* "the team" or "TBD" is not acceptable (see model.references).
PersonRef = Annotated[
    str, Field(max_length=120, description="id of a named person in keys/people.toml")
]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a contract must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)
