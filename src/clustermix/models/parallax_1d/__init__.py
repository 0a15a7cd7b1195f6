"""Model 2: parallax alone, a Gaussian cluster on a field learned from the data.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

from clustermix.models.spec import ModelSpec, Presentation, Resources
from clustermix.palette import PALETTE

SPEC = ModelSpec(
    name="parallax_1d",
    order=2,
    kind="cluster",
    presentation=Presentation(
        label="parallax (1D)",
        prose="parallax",
        colour=PALETTE["sky"],
        marker="s",
        linestyle=(0, (1, 1)),
        corner_quantities=("parallax", "f_cluster", "length_scale_field"),
        component_panel=2,
    ),
    resources=Resources(mem_mb=8000, runtime_min=240),
    adoption_rank=2,
    catalogue_columns=frozenset({"parallax", "parallax_error"}),
)
