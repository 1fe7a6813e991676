"""Synthetic images of people with exact annotations (SURREAL-style), rendered on the CPU.

See ``docs/image_data.md``.  The parts: :mod:`.appearance` (skin, hair, clothes, light),
:mod:`.backgrounds`, :mod:`.occluders`, :mod:`.scene` (cameras, rendering, annotations),
:mod:`.augment` (flip, rotation, scale, colour jitter, background swap), :mod:`.shards`
(the on-disk format, resumable and parallel writing), :mod:`.dataset` (PyTorch datasets:
the shards, and rendering on the fly) and :mod:`.contact_sheet`.
"""
