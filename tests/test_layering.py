"""smplr's packages import only downwards, along the data flow, and never in a circle.

The layers, lowest first (DESIGN.md §1: image -> keypoints -> DAE -> reverse -> body ->
evaluation; tools and applications sit on top).  A package may import from any lower
layer, never from a higher one, and from its own layer only where
:data:`WITHIN_LAYER` says so:

0. ``atomic_io``, ``checksum``, ``geometry``, ``nn_blocks``: foundations (whole-or-nothing
   file writes, file checksums, rotations and alignment, shared torch layers) with no smplr
   imports of their own;
1. ``body``: the SMPL-format body model (decoder), everything else stands on it;
2. ``render``: meshes to pictures and silhouettes;
3. ``synthetic``: generated bodies, poses and keypoint noise (its figures are rendered);
4. ``input_formats``, ``keypoint_checks``, ``dae``, ``reverse``: the registry of keypoint
   inputs, the sanity checks of keypoints (units, up axis, mirroring), and the networks of
   the chain (keypoints -> JL -> Ω, Ψ);
5. ``networks``: the one typed network configuration and its factory;
6. ``image_model``: the image backbone (volumetric stacked hourglass, soft-argmax, the
   AlexNet-like baseline) and its typed configuration;
7. ``weights``: the weight-bundle format, validated against those configurations;
8. ``refine``: the optional fit of the body to the keypoints;
9. ``pipeline``: the whole chain;
10. ``metrics``: errors of a prediction against the truth;
11. ``datasets``: the paper's datasets and the synthetic set, with their ground truth;
12. ``evaluation``: the paper's tables from any method's predictions; ``image_data``: synthetic
    pictures of people with exact annotations (rendered bodies over backgrounds);
13. ``training``: fitting the networks;
14. ``open_model_build``: the build-time tool that generates the open body model;
15. ``predict``: photos and videos to bodies (detector, person selection, camera, outputs);
16. ``smplr`` itself (the package's ``__init__``: the public names);
17. ``benchmarks``: measured speed and accuracy (run by ``smplr bench``);
18. ``cli``: the ``smplr`` command line;
19. ``__main__``: ``python -m smplr``.

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``.
A package is a folder under ``src/smplr`` or a top-level module (``smplr.dae``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("atomic_io", "checksum", "geometry", "nn_blocks"),
    ("body",),
    ("render",),
    ("synthetic",),
    ("input_formats", "keypoint_checks", "dae", "reverse"),
    ("networks",),
    ("image_model",),
    ("weights",),
    ("refine",),
    ("pipeline",),
    ("metrics",),
    ("datasets",),
    ("evaluation", "image_data"),
    ("training",),
    ("open_model_build",),
    ("predict",),
    ("smplr",),
    ("benchmarks",),
    ("cli",),
    ("__main__",),
)

#: Imports allowed between two packages of the same layer (importer, imported).
WITHIN_LAYER: frozenset[tuple[str, str]] = frozenset()

Edges = dict[tuple[str, str], list[str]]  # (importer, imported) package -> "module: import"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """``smplr.body.model`` -> ``body``; ``smplr`` -> ``smplr``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imported_modules(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Every ``smplr`` module that ``tree`` (the source of ``module``) imports, anywhere."""
    found: set[str] = set()
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from smplr import metrics` imports smplr.metrics
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {name for name in found if name == "smplr" or name.startswith("smplr.")}


def import_edges(src: Path) -> Edges:
    """Package-to-package imports of the ``smplr`` tree under ``src``, with examples."""
    root = src / "smplr"
    files = sorted(root.rglob("*.py"))
    known = {_module_name(path, src) for path in files}
    edges: Edges = {}
    for path in files:
        module = _module_name(path, src)
        tree = ast.parse(path.read_text(), filename=str(path))
        for target in sorted(_imported_modules(tree, module, path.name == "__init__.py", known)):
            a, b = _package(module), _package(target)
            if a != b:
                edges.setdefault((a, b), []).append(f"{module} imports {target}")
    return edges


def _layer_of() -> dict[str, int]:
    return {package: level for level, layer in enumerate(LAYERS) for package in layer}


def upward_imports(edges: Edges) -> list[str]:
    """One line per import that goes up a layer or sideways without leave."""
    layer = _layer_of()
    bad = []
    for (a, b), where in sorted(edges.items()):
        if a not in layer or b not in layer:
            continue  # reported by unlayered_packages
        if layer[b] > layer[a] or (layer[b] == layer[a] and (a, b) not in WITHIN_LAYER):
            bad.append(f"{a} (layer {layer[a]}) -> {b} (layer {layer[b]}): {where[0]}")
    return bad


def unlayered_packages(edges: Edges, src: Path) -> list[str]:
    packages = {_package(_module_name(p, src)) for p in (src / "smplr").rglob("*.py")}
    packages |= {p for edge in edges for p in edge}
    return sorted(packages - set(_layer_of()))


def package_cycles(edges: Edges) -> list[list[str]]:
    """The strongly connected groups (more than one package) of the import graph."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


# ------------------------------------------------------------------------------ the real tree
@pytest.fixture(scope="module")
def edges() -> Edges:
    return import_edges(SRC)


def test_every_package_has_a_layer(edges: Edges) -> None:
    assert unlayered_packages(edges, SRC) == [], "add new packages to LAYERS"


def test_no_import_goes_up_a_layer(edges: Edges) -> None:
    assert upward_imports(edges) == []


def test_no_import_cycle_between_packages(edges: Edges) -> None:
    assert package_cycles(edges) == []


def test_each_package_is_in_one_layer() -> None:
    listed = [package for layer in LAYERS for package in layer]
    assert len(listed) == len(set(listed))
    assert all(a != b for a, b in WITHIN_LAYER)


# ------------------------------------------------------------------------------ the checker
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "smplr" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


CHECKER_CASES = {
    "inside a function, absolute": (
        {
            "body/__init__.py": "",
            "body/model.py": "def f():\n    from smplr.pipeline import SMPLR\n",
            "pipeline.py": "from smplr.body import model\n",
        },
        "body (layer 1) -> pipeline (layer 9): smplr.body.model imports smplr.pipeline",
        [["body", "pipeline"]],
        {("body", "pipeline"), ("pipeline", "body")},
    ),
    "relative, and a submodule named in from-import": (
        {
            "metrics.py": "",
            "datasets/__init__.py": "from . import record\n",
            "datasets/record.py": "from ..evaluation import run\n",
            "evaluation/__init__.py": "",
            "evaluation/run.py": "from smplr import metrics\n",
        },
        "datasets (layer 11) -> evaluation (layer 12): smplr.datasets.record imports "
        "smplr.evaluation.run",
        [],
        {("datasets", "evaluation"), ("evaluation", "metrics")},
    ),
}


@pytest.mark.parametrize("case", sorted(CHECKER_CASES))
def test_checker_finds_the_upward_import(tmp_path: Path, case: str) -> None:
    files, upward, cycles, pairs = CHECKER_CASES[case]
    edges = import_edges(_tree(tmp_path, {"__init__.py": "", **files}))
    assert set(edges) == pairs
    assert upward_imports(edges) == [upward]
    assert package_cycles(edges) == cycles


def test_checker_refuses_sideways_imports_and_unknown_packages(tmp_path: Path) -> None:
    edges: Edges = {("render", "synthetic"): ["x"], ("reverse", "dae"): ["y"], ("cli", "z"): ["z"]}
    assert [line.split(":")[0] for line in upward_imports(edges)] == [
        "render (layer 2) -> synthetic (layer 3)",
        "reverse (layer 4) -> dae (layer 4)",
    ]
    assert unlayered_packages(edges, _tree(tmp_path, {"__init__.py": ""})) == ["z"]
    assert package_cycles({("a", "b"): [], ("b", "c"): [], ("c", "a"): []}) == [["a", "b", "c"]]
