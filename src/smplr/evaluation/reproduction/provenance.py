"""What the report's numbers were measured with: weights, body model, software, machine
and source revision."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from smplr.checksum import sha256_file


def describe_weights(path: Path, is_shipped: bool) -> dict:
    """Which weights were measured: file, checksum, network sizes and training record
    (steps per stage, the training pose source where the bundle records it)."""
    from smplr.weights import load_bundle

    bundle = load_bundle(path)
    meta = bundle.meta if isinstance(bundle.meta, dict) else {}
    stages = meta.get("stages", {})
    recipe = meta.get("recipe", {})
    return {
        "file": f"shipped ({path.name}, smplr.weights)" if is_shipped else str(path),
        "shipped": is_shipped,
        "sha256": sha256_file(path),
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in bundle.config.items()},
        "steps": {name: stage.get("steps") for name, stage in stages.items()},
        "training_poses": recipe.get("poses") if isinstance(recipe, dict) else None,
    }


def describe_body_model() -> dict:
    """The shipped open body model's build record (version of Anny, checksums)."""
    from importlib import resources

    info_path = resources.files("smplr.body") / "assets" / "build_info.json"
    info = json.loads(info_path.read_text())
    models = info.get("models", {})
    return {
        "source": f"anny {info.get('anny_version', '?')} (open smplr body model)",
        "files": {g: m.get("sha256", "?")[:16] for g, m in models.items()},
    }


def _git(*args: str) -> str | None:
    repo = Path(__file__).resolve().parents[4]
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(threads: int) -> dict[str, str]:
    """Software versions, machine and source revision, for the report's header."""
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    packages = {}
    for name in ("smplr", "torch", "numpy", "scipy"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "source": "not a git checkout"
        if commit is None
        else f"git {commit[:12]}" + (" with uncommitted changes" if dirty else ""),
        "python": platform.python_version(),
        **packages,
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}",
        "threads": f"{threads} torch CPU thread{'' if threads == 1 else 's'}, no GPU",
    }
