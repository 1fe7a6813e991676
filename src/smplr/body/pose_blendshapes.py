"""SMPL's pose blend shapes (``posedirs``), computed only where they are not zero.

SMPL adds to each rest vertex an offset linear in the pose features (the entries of
R_j − I of the 23 body joints).  Official SMPL models have them on every vertex and
every feature; the open models only on vertices that blend body parts, and only for
the joints those vertices are skinned to.  :class:`PoseBlendShapes` keeps the vertices
that have any, split into a few blocks that each use a subset of the joints' features,
so a sparse model costs a fraction of the dense product and a dense one costs the same.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from smplr.body.model_file import POSE_FEATURES
from smplr.body.skeleton import NUM_BODY_JOINTS

#: At most this many blocks (each one matrix product per call).
MAX_BLOCKS = 6


def pose_features(rotations: torch.Tensor) -> torch.Tensor:
    """SMPL's pose blend shape features: ``rotations (B, 24, 3, 3)`` -> ``(B, 207)``, the
    entries of R_j − I of the 23 non-root joints."""
    eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
    return (rotations[:, 1:] - eye).reshape(rotations.shape[0], -1)


def _blocks(used: np.ndarray, max_blocks: int) -> list[tuple[np.ndarray, int]]:
    """Group rows by the joints whose features they use: ``used (K, 23)`` bool ->
    ``[(rows, joint bit mask)]``.  Rows with the same joints start in one group; the two
    groups whose merge adds the fewest multiply-adds merge until ``max_blocks`` remain."""
    groups: dict[int, list[int]] = {}
    for row, mask in enumerate(used @ (1 << np.arange(NUM_BODY_JOINTS))):
        groups.setdefault(int(mask), []).append(row)
    blocks = [(len(rows), mask, rows) for mask, rows in groups.items()]
    while len(blocks) > max_blocks:
        best = None
        for a in range(len(blocks)):
            for b in range(a + 1, len(blocks)):
                (na, ma, _), (nb, mb, _) = blocks[a], blocks[b]
                extra = (
                    (na + nb) * (ma | mb).bit_count() - na * ma.bit_count() - nb * mb.bit_count()
                )
                if best is None or extra < best[0]:
                    best = (extra, a, b)
        assert best is not None
        _, a, b = best
        merged = (
            blocks[a][0] + blocks[b][0],
            blocks[a][1] | blocks[b][1],
            blocks[a][2] + blocks[b][2],
        )
        blocks = [blk for k, blk in enumerate(blocks) if k not in (a, b)] + [merged]
    return [(np.sort(np.array(rows)), mask) for _, mask, rows in blocks]


class PoseBlendShapes(nn.Module):
    """Pose blend shapes of the rows of a model that have any.

    Args:
        posedirs: ``(V, 3, 207)`` SMPL's pose blend shapes, rows in the order the layer
            stores its vertices.
        dtype: precision of the buffers.
        max_blocks: how many blocks (matrix products) the rows are split into.

    ``rows (K,)`` are the rows with pose blend shapes, in the order :meth:`forward`
    returns their offsets.
    """

    rows: torch.Tensor

    def __init__(
        self, posedirs: np.ndarray, dtype: torch.dtype, max_blocks: int = MAX_BLOCKS
    ) -> None:
        super().__init__()
        rows = np.flatnonzero(np.any(posedirs != 0, axis=(1, 2)))
        used = np.any(posedirs[rows].reshape(rows.size, 3, NUM_BODY_JOINTS, 9) != 0, axis=(1, 3))
        blocks = _blocks(used, max_blocks) if rows.size else []
        order = np.concatenate([block for block, _ in blocks]) if blocks else rows[:0]
        self.register_buffer("rows", torch.as_tensor(rows[order]), persistent=False)
        self.sizes: list[int] = []
        for k, (block, mask) in enumerate(blocks):
            joints = [j for j in range(NUM_BODY_JOINTS) if mask >> j & 1]
            cols = np.concatenate([np.arange(9 * j, 9 * j + 9) for j in joints])
            weights = posedirs[rows[block]][:, :, cols]  # (n, 3, F_k)
            matrix = weights.transpose(2, 1, 0).reshape(cols.size, -1)  # (F_k, 3 n)
            self.register_buffer(f"cols{k}", torch.as_tensor(cols), persistent=False)
            self.register_buffer(
                f"dirs{k}", torch.as_tensor(np.ascontiguousarray(matrix), dtype=dtype)
            )
            self.sizes.append(int(block.size))

    def __len__(self) -> int:
        return int(self.rows.numel())

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``features (B, 207)`` -> offsets ``(B, 3, K)`` of :attr:`rows`."""
        batch = features.shape[0]
        parts = [
            (features.index_select(1, getattr(self, f"cols{k}")) @ getattr(self, f"dirs{k}")).view(
                batch, 3, size
            )
            for k, size in enumerate(self.sizes)
        ]
        return torch.cat(parts, dim=2)

    def same_layout(self, other: PoseBlendShapes) -> bool:
        """True when ``other`` has the same rows and blocks (so offsets line up)."""
        return (
            torch.equal(self.rows, other.rows)
            and self.sizes == other.sizes
            and all(
                torch.equal(getattr(self, f"cols{k}"), getattr(other, f"cols{k}"))
                for k in range(len(self.sizes))
            )
        )

    def dense(self, num_rows: int) -> np.ndarray:
        """Back to SMPL's ``(num_rows, 3, 207)`` layout (float64, zero elsewhere)."""
        out = np.zeros((num_rows, 3, POSE_FEATURES))
        start = 0
        rows = self.rows.cpu().numpy()
        for k, size in enumerate(self.sizes):
            cols = getattr(self, f"cols{k}").cpu().numpy()
            dirs = getattr(self, f"dirs{k}").detach().cpu().double().numpy()
            block = dirs.reshape(cols.size, 3, size).transpose(2, 1, 0)  # (n, 3, F_k)
            out[np.ix_(rows[start : start + size], np.arange(3), cols)] = block
            start += size
        return out
