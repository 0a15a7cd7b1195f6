"""Model 3: both proper motions, each star with its full 2x2 measurement covariance.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

from clustermix.models.spec import ModelSpec, Presentation, Resources
from clustermix.palette import PALETTE

SPEC = ModelSpec(
    name="pm_2d",
    order=3,
    kind="cluster",
    presentation=Presentation(
        label="proper motion (2D)",
        prose="two-dimensional proper-motion",
        colour=PALETTE["green"],
        marker="D",
        linestyle=(0, (3, 1, 1, 1)),
        corner_quantities=("pmra", "pmdec", "sigma_cl", "f_cluster"),
        component_panel=1,
    ),
    resources=Resources(mem_mb=6000, runtime_min=180),
    adoption_rank=1,
    # the field is learned per G bin on the control annulus
    catalogue_columns=frozenset(
        {"pmra", "pmra_error", "pmdec", "pmdec_error", "pmra_pmdec_corr", "phot_g_mean_mag"}
    ),
    cmd_rank=1,
)
