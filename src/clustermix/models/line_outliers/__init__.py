"""Model 0: a straight line with outliers, the seed tutorial's warm-up and our acceptance test.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

from clustermix.models.spec import ModelSpec, Presentation, Resources
from clustermix.palette import PALETTE

SPEC = ModelSpec(
    name="line_outliers",
    order=0,
    kind="example",
    presentation=Presentation(
        label="line + outliers",
        prose="straight-line",
        colour=PALETTE["purple"],
        marker="v",
        linestyle=(0, (2, 2)),
        corner_quantities=("m", "b", "w_inlier"),
    ),
    resources=Resources(mem_mb=2000, runtime_min=15),
)
