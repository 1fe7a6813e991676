"""The numbers the SMPLR paper publishes, copied from its text, with where each comes from.

Madadi, Bertiche, Escalera: "SMPLR: Deep SMPL reverse for 3D human pose and shape
recovery".  These are the only hand-typed numbers of the reproduction report
(:mod:`smplr.evaluation.reproduction`); everything smplr measures is computed.
``None`` is a cell the paper leaves empty ("-").
"""

from __future__ import annotations

from typing import NamedTuple

TABLE1_COLUMNS: tuple[str, ...] = (
    "Hd",
    "Ts",
    "Sr",
    "Ew",
    "Wt",
    "Hp",
    "Kn",
    "Ft",
    "Avg. Jt",
    "Avg. Lm",
    "Avg. Bn",
)
"""Table 1's columns: per-part errors, then the averages over joints, landmarks, bones."""


class PaperRow(NamedTuple):
    block: str
    model: str
    values: tuple[float | None, ...]


TABLE1_INPUTS: dict[str, str] = {
    "CNN": "SURREAL image",
    "DAE_Alexnet": "Alexnet estimates",
    "DAE_SHN": "SHN estimates",
    "DAE_SHN^2d": "SHN estimates, depth 0",
    "Ψ": "SHN estimates, true pose",
    "Ω": "SHN estimates, true shape",
    "Ω_smpl": "SHN estimates, true shape",
    "ALL": "SURREAL image (SHN → DAE → SMPLR)",
    "ALL_Proc": "SURREAL image (SHN → DAE → SMPLR)",
}
"""What each Table 1 row was fed (paper sections 4.4.1-4.4.3); the CNN rows (key "CNN")
are fed the image."""


TABLE1: tuple[PaperRow, ...] = (
    PaperRow("CNN", "Alexnet", (100.0, 41.6, 99.0, 179.9, 246.9, 34.6, 138.5, 217.3, 133.0, None, 31.9)),
    PaperRow("CNN", "SHN_nL", (47.5, 23.0, 44.2, 77.2, 112.0, 16.3, 61.9, 102.7, 62.8, None, 10.4)),
    PaperRow("CNN", "SHN", (46.2, 23.0, 43.0, 75.5, 110.2, 15.3, 61.2, 102.2, 59.9, 61.5, 9.3)),
    PaperRow("CNN", "SHN_e2e", (45.1, 22.2, 43.3, 74.4, 108.2, 16.0, 57.9, 94.2, 57.8, 59.6, 9.0)),
    PaperRow("CNN", "SHN^final", (40.8, 20.9, 38.0, 66.8, 93.4, 14.3, 55.7, 92.9, 53.0, 54.3, 9.7)),
    PaperRow("DAE", "DAE_Alexnet", (89.3, 37.1, 87.2, 160.8, 230.8, 29.6, 131.7, 205.9, 121.5, None, 22.7)),
    PaperRow("DAE", "DAE_SHN", (45.8, 22.2, 42.2, 75.4, 108.5, 14.4, 61.8, 103.2, 59.2, 61.1, 9.5)),
    PaperRow("DAE", "DAE_SHN^2d", (51.4, 23.1, 46.2, 83.7, 121.7, 15.1, 66.6, 115.4, 65.2, 66.1, 11.8)),
    PaperRow("SMPLR", "Ψ", (16.5, 9.1, 13.8, 17.3, 19.9, 5.8, 11.7, 21.3, 14.4, 11.5, 6.6)),
    PaperRow("SMPLR", "Ω", (55.1, 22.3, 48.8, 85.8, 127.1, 13.4, 68.6, 122.3, 67.8, None, None)),
    PaperRow("SMPLR", "Ω_smpl", (50.1, 20.1, 44.9, 83.6, 123.6, 12.4, 63.9, 111.9, 63.8, None, None)),
    PaperRow("ALL", "ALL", (57.9, 24.0, 52.8, 92.7, 140.4, 15.8, 67.8, 115.0, 70.8, 73.8, 8.4)),
    PaperRow("ALL", "ALL_Proc", (53.7, 26.1, 49.7, 86.2, 129.9, 21.6, 67.0, 109.2, 67.8, 70.6, 7.7)),
)  # fmt: skip
"""Paper Table 1: ablation on SURREAL validation, Protocol 1, mm (section 4.4)."""

TABLE1_SOURCE = (
    "paper Table 1 (ablation on the SURREAL validation set, image input, SMPL; Protocol 1, mm)"
)

TABLE3_COLUMNS: tuple[str, ...] = ("SMPL surface", "3D joints")

TABLE3: tuple[tuple[str, float | None, float | None, bool], ...] = (
    ("Tung [30]", 74.5, 64.4, False),
    ("Varol (independent) [31]", 74.5, 46.1, True),
    ("Varol (multi-task) [31]", 65.8, 40.8, True),
    ("SHN^final", None, 42.8, True),
    ("SHN_e2e^final", None, 40.8, True),
    ("ALL", 66.0, 50.6, False),
    ("ALL_Proc", 62.3, 48.2, False),
)
"""Paper Table 3: SURREAL test, Protocol 1, mm: ``(model, surface, joints, starred)``;
starred joints are intermediate 3D joints used to predict the surface."""

TABLE3_SOURCE = "paper Table 3 (SURREAL test set, image input, SMPL; Protocol 1, mm)"

TABLE4_DATASETS: tuple[str, ...] = ("SURREAL", "Human3.6M", "UP-3D")

TABLE4: tuple[tuple[str, tuple[float | None, ...]], ...] = (
    ("Varol (multi-task) [31]", (None, None, 0.73)),
    ("ALL_Proc", (0.75, 0.71, 0.77)),
)
"""Paper Table 4: silhouette IoU of the projected mesh, per dataset."""

TABLE4_SOURCE = "paper Table 4 (silhouette IoU on SURREAL, Human3.6M and UP-3D images)"

GENDER_ACCURACY_PERCENT = 89.5
"""Paper section 4.4.3 ("Gender"): accuracy of Ψ's gender estimate, SURREAL validation."""

GENDER_SOURCE = "paper section 4.4.3, Gender (Ψ on SHN estimates, SURREAL validation)"

DAE_NOISE_AVG_JT = 61.7
"""Paper section 4.4.2: DAE trained on ground truth + uniform noise, tested on SHN
estimates: average joint error 61.7 mm (not in Table 1)."""

TABLE2_SMPLR: tuple[tuple[str, float, float], ...] = (
    ("ALL (GT crop)", 67.9, 52.2),
    ("ALL_Proc (GT crop)", 62.6, 52.2),
)
"""Paper Table 2, SMPLR rows with ground-truth cropping: Human3.6M joints, Protocol 1 and 2, mm."""

TABLE2_SOURCE = "paper Table 2 (Human3.6M, ground-truth crop; Protocols 1 and 2, mm)"
