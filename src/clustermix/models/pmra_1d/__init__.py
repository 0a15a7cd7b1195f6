"""Model 1: proper motion in RA alone, a Gaussian cluster on a Gaussian-mixture field.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

from clustermix.models.spec import ModelSpec, Presentation, Resources
from clustermix.palette import PALETTE

SPEC = ModelSpec(
    name="pmra_1d",
    order=1,
    kind="cluster",
    presentation=Presentation(
        label="pmRA (1D)",
        prose="pmRA",
        colour=PALETTE["orange"],
        marker="o",
        linestyle=(0, (5, 1.5)),
        corner_quantities=("pmra", "sigma_pmra_cl", "f_cluster"),
        component_panel=0,
    ),
    resources=Resources(mem_mb=4000, runtime_min=60),
    adoption_rank=3,
    # the field is learned per G bin on the control annulus
    catalogue_columns=frozenset({"pmra", "pmra_error", "phot_g_mean_mag"}),
)
