"""``smplr report``'s entry point: measure, then write the Markdown file."""

from __future__ import annotations

from pathlib import Path

from smplr.atomic_io import write_text_atomic
from smplr.evaluation.reproduction.markdown import render_markdown
from smplr.evaluation.reproduction.measuring import Settings, measure
from smplr.evaluation.reproduction.provenance import environment

DEFAULT_COMMAND = "smplr report --out docs/reproduction.md"


def generate(
    out: str | Path, settings: Settings, command: str = DEFAULT_COMMAND, progress: bool = False
) -> Path:
    """Measure and write the report to ``out``; returns its path."""
    out = Path(out)
    if out.suffix.lower() != ".md":
        raise ValueError(f"{out}: the report is Markdown; give a path ending in .md")
    env = environment(settings.threads)  # the source and date the numbers are measured with
    measurements = measure(settings, progress=progress)
    text = render_markdown(measurements, env, command)
    return write_text_atomic(out, text)
