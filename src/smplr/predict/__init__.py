"""Photos and videos to SMPL bodies (``smplr predict``): a keypoint detector, person
selection, SMPLR's lift and fit, the camera, and the files written.

- :mod:`smplr.predict.media`      which files, read as RGB (images; videos need OpenCV)
- :mod:`smplr.predict.detector`   MediaPipe BlazePose, offline (the ``photos`` extra)
- :mod:`smplr.predict.image_route` the other route: a crop through smplr's own image model
- :mod:`smplr.predict.boxes`      person boxes for that crop (``--box``, ``--boxes``)
- :mod:`smplr.predict.selection`  whom to fit: the largest person; tracking in videos
- :mod:`smplr.predict.lift`       BlazePose landmarks -> DAE -> refinement with priors
- :mod:`smplr.predict.placement`  the camera and the body moved into its frame
- :mod:`smplr.predict.smoothing`  parameters smoothed over video frames
- :mod:`smplr.predict.outputs`    predictions.npz, overlays, strips, videos
- :mod:`smplr.predict.run`        the whole thing: :class:`Predictor`, :func:`predict_files`
"""

from smplr.predict.detector import MediaPipeDetector, PoseDetection
from smplr.predict.image_route import Crop, ImageKeypoints
from smplr.predict.run import (
    KEYPOINT_ROUTES,
    InputReport,
    PredictOptions,
    Predictor,
    predict_files,
)

__all__ = [
    "KEYPOINT_ROUTES",
    "Crop",
    "ImageKeypoints",
    "InputReport",
    "MediaPipeDetector",
    "PoseDetection",
    "PredictOptions",
    "Predictor",
    "predict_files",
]
