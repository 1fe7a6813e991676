"""``python -m smplr.open_model_build``: build the open body models."""

from __future__ import annotations

import argparse
from pathlib import Path

from smplr.open_model_build.build import build_open_models, preview_models
from smplr.open_model_build.checks import summarize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smplr.open_model_build",
        description=(
            "Generate smplr's open SMPL-format body models (male, female, neutral) from the Anny "
            "body model: T-pose rest, 10 PCA shape directions (betas ~ N(0, 1)), a sparse joint "
            "regressor and the paper's 18 landmarks.  Needs 'pip install smplr[build-open-model]'; "
            "Anny's first run builds a ~0.8 GB cache under $ANNY_CACHE_DIR (~2 min)."
        ),
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output folder (the shipped one is src/smplr/body/assets)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the phenotype samples and check poses (default 0)",
    )
    parser.add_argument(
        "--num-samples", type=int, default=1000, help="training bodies per sex (default 1000)"
    )
    parser.add_argument(
        "--num-heldout",
        type=int,
        default=100,
        help="held-out bodies per sex for the checks (default 100)",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="also write the test fixture here (tests/data/anny_reference.npz)",
    )
    parser.add_argument(
        "--preview",
        type=Path,
        default=None,
        help="also draw the three templates with joints and landmarks (PNG)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        info = build_open_models(
            args.out, args.seed, args.num_samples, args.num_heldout, args.reference, not args.quiet
        )
    except (ValueError, ImportError) as exc:
        parser.error(str(exc))
    print(summarize(info, args.out))
    if args.preview is not None:
        print(f"preview: {preview_models(args.out, args.preview)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
