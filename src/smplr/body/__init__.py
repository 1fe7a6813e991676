"""The SMPL-format body model: file I/O, the LBS layer, skeleton and landmarks."""

from smplr.body.model import GENDERS, BodyModel, BodyOutput, GenderedBodyModel
from smplr.body.model_file import BodyModelData, ModelFileError, load_model_data, save_model_data

__all__ = [
    "GENDERS",
    "BodyModel",
    "BodyModelData",
    "BodyOutput",
    "GenderedBodyModel",
    "ModelFileError",
    "load_model_data",
    "save_model_data",
]
