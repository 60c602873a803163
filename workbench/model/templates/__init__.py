"""Seam templates: a new contract from the article's three seam tables.

Pure: the people and teams come in as values, the contract text goes out. The service
(`workbench.service.authoring`) reads the repo, fills these in and commits the result.
"""

from workbench.model.templates.placeholders import PLACEHOLDER_PREFIX, placeholder_problems
from workbench.model.templates.seams import (
    TEMPLATES,
    SeamTemplate,
    TemplateInput,
    TemplateParameter,
    render_template,
)

__all__ = [
    "PLACEHOLDER_PREFIX",
    "TEMPLATES",
    "SeamTemplate",
    "TemplateInput",
    "TemplateParameter",
    "placeholder_problems",
    "render_template",
]
