"""``smplr report``'s entry point: measure, then write the Markdown file."""

from __future__ import annotations

from pathlib import Path

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
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out
