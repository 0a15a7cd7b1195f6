"""Model 4: sky position, parallax, proper motions and radial velocities together.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
Beside it: :mod:`.options` (defaults and columns), :mod:`.sky` (the cone and the sky
densities), :mod:`.starts` (starting values), :mod:`.cmd` (the colour-magnitude term),
:mod:`.covariance`, :mod:`.replicate` (the NumPy generative model of the posterior
predictive check), :mod:`.predictive` and :mod:`.diagram`.
"""

from clustermix.models.spec import ModelSpec, Presentation, Resources
from clustermix.palette import PALETTE

SPEC = ModelSpec(
    name="phase_space",
    order=4,
    kind="cluster",
    presentation=Presentation(
        label="phase space",
        prose="phase-space",
        colour=PALETTE["blue"],
        marker="^",
        linestyle="-",
        corner_quantities=("parallax", "pmra", "pmdec", "rv", "sigma_v", "f_cluster"),
        page_width_diagram=True,
    ),
    resources=Resources(mem_mb=16000, runtime_min=720),
    adoption_rank=0,
    catalogue_columns=frozenset(
        {
            "parallax",
            "parallax_error",
            "pmra",
            "pmra_error",
            "pmdec",
            "pmdec_error",
            "parallax_pmra_corr",
            "parallax_pmdec_corr",
            "pmra_pmdec_corr",
            "phot_g_mean_mag",
        }
    ),
    galactocentric=True,
    cmd_rank=0,
)
