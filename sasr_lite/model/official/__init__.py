"""The authors' released SaSR-Net (github.com/tianyu-yang1998/SaSR-Net), rewritten in the kit's
style: same parameters, same weight names through a map, same answers."""

from sasr_lite.model.official.network import OFFICIAL_PARAMETERS, OFFICIAL_SEGMENTS, OfficialSaSRNet
from sasr_lite.model.official.state_dict import (
    KEY_MAP,
    load_official_state_dict,
    official_to_ours,
    ours_to_official,
)

__all__ = [
    "KEY_MAP",
    "OFFICIAL_PARAMETERS",
    "OFFICIAL_SEGMENTS",
    "OfficialSaSRNet",
    "load_official_state_dict",
    "official_to_ours",
    "ours_to_official",
]
