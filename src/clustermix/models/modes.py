"""Find the cluster's mode before sampling, and check after sampling that every chain stayed.

A cluster + field mixture posterior has several modes: the cluster; the field's core posing
as a broad "cluster"; a clump of a few field stars posing as a tight one; another cluster in
the cone. Chains started apart fall into different ones. So every fit first searches for the
modes, deterministically:

1. **Candidates** (:func:`candidate_centres`), points in (parallax, pmra, pmdec): the
   overdensities of the cluster region against the control field scaled to the same area
   (smoothed proper-motion histograms of the better-measured half of the stars), the
   user's ``hint`` (e.g. a published catalogue's values: it proposes and picks a mode, it
   is never a prior), and the densest proper-motion bin of the whole field. Without a hint
   and without an overdensity of :data:`MIN_SIGNIFICANCE`, the weaker ones (down to
   :data:`MIN_WEAK_SIGNIFICANCE`) are proposed too: a poor cluster can lie below the first
   threshold, and the checks below, not the threshold, then tell it from noise.
2. **Optimisation** (:class:`PosteriorOptimiser`): from the model's own starting values
   with the cluster at each candidate, L-BFGS on the log posterior (in the sampler's
   unconstrained space, Jacobian included); optima closer than :data:`SAME_MODE` are one.
3. **Is it a cluster?** (:func:`cluster_problems`): its internal velocity dispersion is at
   most ``cluster_sigma_v_max_kms`` (proper-motion widths converted with the parallax),
   it holds at least ``cluster_min_members`` stars, and, for a model with sky positions,
   its centre lies within ``cluster_centre_max_arcmin`` of the cone's centre (the cone is
   pointed at the cluster; a richer one elsewhere in it is another cluster), and, for a
   model without sky positions fitted to the cluster region and the control annulus
   together, its members are concentrated on the sky: at the mode, their surface density
   (the sum of the membership probabilities per arcmin^2) in the cluster region is at
   least ``cluster_min_concentration`` times that in the control annulus. Without it, such
   a model has nothing that tells the cluster the cone is pointed at from another cluster
   or a comoving group elsewhere in the cone (seen in the calibration: ``pm_2d`` returned
   the hard field's neighbour cluster, whose members lie in the control annulus).
4. **The pick** (:func:`choose_mode`): among the cluster-like modes near the target (the
   hint, else the strongest overdensity of the cluster region of at least
   :data:`MIN_SIGNIFICANCE`; without either, among all), the one of highest log
   posterior. All chains start there. None: :class:`~clustermix.errors.ModeError`, with
   every mode found.

After sampling, :func:`check_chains` compares the chains with each other and with the
chosen mode (a chain's mean of each cluster quantity within :data:`CHAIN_TOLERANCE_SD`
posterior standard deviations), and that each chain is still a cluster; otherwise a
:class:`~clustermix.errors.ModeError` names every chain's mode (parallax, proper motion,
f, dispersion). A fit never returns a number from a mixture of modes, nor from a field
clump with R-hat 1.00.

The proper-motion-only models (pmra_1d, pm_2d) fit the members' mean proper motion; the
simulator's truth and phase_space give the centre's (the mean velocity projected at the
centre). The two differ at second order in the cluster's extent, mu (<z^2>/d^2 - <xi^2>/2)
(xi the sky offsets in radians, z the depth offsets): about 5e-5 mas/yr for an M67-like
cluster at 880 pc, 0.03 mas/yr at 100 pc, so those models are for clusters beyond a few
hundred pc. Their dispersion (mas/yr) is judged with the candidate's parallax.

Each model module declares ``MODE_QUANTITIES`` (standard quantity name -> its posterior
variable) and ``start_at(data, options, candidate)`` (its starting values with the cluster
at a candidate). Units: parallax mas, proper motions mas/yr, velocities km/s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage, optimize

from clustermix.errors import ModeError
from clustermix.models.compiled import logp_dlogp
from clustermix.models.kinematics import KMS_PER_MASYR_KPC
from clustermix.models.mixture import catalog_column, histogram_peak

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

log = logging.getLogger(__name__)

#: Proper-motion histogram bin (mas/yr) and Gaussian smoothing (bins) of the candidate search.
PM_BIN_MASYR = 0.1
SMOOTHING_BINS = 1.5
#: An overdensity is a candidate, and the strongest one the target, above this
#: significance (excess / sqrt(expected)).
MIN_SIGNIFICANCE = 4.0
#: Without a hint or such an overdensity, weaker ones down to this are candidates, never
#: targets (in the calibration's hard field, the 80-member cluster showed 3.4-5.5).
MIN_WEAK_SIGNIFICANCE = 3.0
#: At most this many overdensities become candidates.
MAX_OVERDENSITIES = 4
#: Stars within this proper-motion distance (mas/yr) of a candidate give its parallax.
CANDIDATE_WINDOW_MASYR = 0.3
#: Two optima are one mode when all their cluster quantities differ by less than this.
SAME_MODE: dict[str, float] = {
    "parallax": 0.02,
    "pmra": 0.05,
    "pmdec": 0.05,
    "rv": 1.0,
    "f_cluster": 0.01,
}
#: A mode "matches" the target (the hint or the strongest overdensity) within these.
TARGET_MATCH: dict[str, float] = {"parallax": 0.3, "pmra": 0.5, "pmdec": 0.5}
#: After sampling, each chain's mean must lie within this many posterior sds of the others'
#: and of the chosen mode.
CHAIN_TOLERANCE_SD = 5.0
#: Absolute slack (per quantity's unit) added to that tolerance, for near-degenerate draws.
_CHAIN_TOLERANCE_FLOOR = 1e-3
#: L-BFGS iterations per candidate.
MAX_OPTIMISER_ITERATIONS = 2000


@dataclass
class Candidate:
    """A proposed cluster centre: ``parallax`` (mas, None if unknown), ``pmra``, ``pmdec``
    (mas/yr), where it came from (``label``), and for overdensities the excess number of
    stars and its significance."""

    label: str
    pmra: float
    pmdec: float
    parallax: float | None = None
    excess: float | None = None
    significance: float | None = None


@dataclass
class Mode:
    """One optimum of the posterior: its cluster quantities, log posterior and verdict."""

    label: str
    quantities: dict[str, float]
    log_posterior: float
    problems: list[str] = field(default_factory=list)
    start: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_cluster(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        """One line: the quantities, the log posterior and why it is not a cluster."""
        text = f"{self.label}: {format_quantities(self.quantities)}"
        if np.isfinite(self.log_posterior):
            text += f", log posterior {self.log_posterior:.1f}"
        if self.problems:
            text += f" - not a cluster: {'; '.join(self.problems)}"
        return text

    def record(self) -> dict[str, Any]:
        """JSON-ready summary (without the starting point)."""
        return {
            "label": self.label,
            "quantities": dict(self.quantities),
            "log_posterior": float(self.log_posterior),
            "is_cluster": self.is_cluster,
            "problems": list(self.problems),
        }


_FORMATS = {
    "parallax": ("parallax", "{:.3f} mas"),
    "pmra": ("pmra", "{:.3f} mas/yr"),
    "pmdec": ("pmdec", "{:.3f} mas/yr"),
    "rv": ("rv", "{:.2f} km/s"),
    "f_cluster": ("f", "{:.4f}"),
    "n_members": ("N", "{:.0f}"),
    "sigma_pm": ("sigma_pm", "{:.3f} mas/yr"),
    "sigma_v": ("sigma_v", "{:.2f} km/s"),
    "plummer_radius_arcmin": ("a", "{:.2f} arcmin"),
    "concentration": ("concentration", "{:.3g}"),
}


def format_quantities(quantities: Mapping[str, float]) -> str:
    """``parallax 0.360 mas, pmra -2.910 mas/yr, ...`` for the known quantities."""
    parts = []
    for name, (label, form) in _FORMATS.items():
        value = quantities.get(name)
        if value is not None and np.isfinite(value):
            parts.append(f"{label} {form.format(value)}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- candidates


def candidate_centres(
    catalog: Any, hint: Mapping[str, float] | None, source: str
) -> list[Candidate]:
    """Proposed cluster centres in (parallax, pmra, pmdec), strongest first.

    ``catalog``: the cleaned catalogue joined with its sky masks (columns ``pmra``,
    ``pmdec``, their errors, ``parallax``, ``parallax_error``, and ``in_cluster_region``,
    ``in_control_field``, ``separation_arcmin`` when available). ``hint``: optional
    ``parallax_mas``, ``pmra_masyr``, ``pmdec_masyr``. Returns the hint (first, if given),
    the overdensities of the cluster region (see the module docstring) and the densest
    proper-motion bin of all stars.
    """
    columns = _astrometry(catalog, source)
    candidates: list[Candidate] = []
    if hint:
        candidates.append(
            Candidate(
                "hint",
                pmra=float(hint["pmra_masyr"]),
                pmdec=float(hint["pmdec_masyr"]),
                parallax=_float_or_none(hint.get("parallax_mas")),
            )
        )
    good = columns["good"]
    names = set(getattr(catalog, "colnames", None) or list(catalog.keys()))
    if {"in_cluster_region", "in_control_field", "separation_arcmin"} <= names:
        region = good & _flag(catalog, "in_cluster_region", source)
        control = good & _flag(catalog, "in_control_field", source)
        separation = catalog_column(catalog, "separation_arcmin", source)
        found = _overdensities(columns, region, control, separation)
        if not hint and not any(c.significance >= MIN_SIGNIFICANCE for c in found):
            for candidate in found:
                candidate.label = "weak " + candidate.label
        else:
            found = [c for c in found if c.significance >= MIN_SIGNIFICANCE]
        candidates += found
    finite = columns["finite"]
    if good.sum() >= 10:
        # the densest 0.25 mas/yr bin of the better-measured half, as the models' own starts
        densest = histogram_peak(columns["pm"][finite], columns["pm_error"][finite], 0.25)
        candidates.append(
            Candidate(
                "densest bin of the field",
                pmra=float(densest[0]),
                pmdec=float(densest[1]),
                parallax=_window_parallax(columns, good, densest),
            )
        )
    return candidates


def target_of(candidates: Sequence[Candidate]) -> Candidate | None:
    """The candidate a fit must land near: the hint, else the strongest overdensity (a weak
    one is no target)."""
    for candidate in candidates:
        if candidate.label == "hint" or candidate.label.startswith("overdensity"):
            return candidate
    return None


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _flag(catalog: Any, name: str, source: str) -> np.ndarray:
    return np.nan_to_num(catalog_column(catalog, name, source), nan=0.0).astype(bool)


def _astrometry(catalog: Any, source: str) -> dict[str, np.ndarray]:
    """The columns the candidate search uses (``pm_error``: the larger of the two proper-motion
    errors), ``finite`` astrometry and ``good``: finite, with a proper-motion error in the
    better-measured half."""
    pm = np.column_stack([catalog_column(catalog, name, source) for name in ("pmra", "pmdec")])
    pm_error = np.column_stack(
        [catalog_column(catalog, name, source) for name in ("pmra_error", "pmdec_error")]
    ).max(axis=1)
    names = set(getattr(catalog, "colnames", None) or list(catalog.keys()))
    if {"parallax", "parallax_error"} <= names:
        parallax = catalog_column(catalog, "parallax", source)
        parallax_error = catalog_column(catalog, "parallax_error", source)
    else:
        parallax = np.full(len(pm), np.nan)
        parallax_error = np.full(len(pm), np.nan)
    finite = np.isfinite(pm).all(axis=1) & np.isfinite(pm_error)
    good = finite & (pm_error <= np.median(pm_error[finite])) if finite.any() else finite
    return {
        "pm": pm,
        "pm_error": pm_error,
        "parallax": parallax,
        "parallax_error": parallax_error,
        "finite": finite,
        "good": good,
    }


def _overdensities(
    columns: dict[str, np.ndarray],
    region: np.ndarray,
    control: np.ndarray,
    separation: np.ndarray,
) -> list[Candidate]:
    """Peaks of (region - scaled control) in smoothed proper-motion histograms, of at least
    :data:`MIN_WEAK_SIGNIFICANCE`, strongest first."""
    if region.sum() < 10 or control.sum() < 10:
        return []
    scale = 1.0 / control_to_region_area(separation, region, control)
    pm = columns["pm"]
    low = np.percentile(pm[region], 1, axis=0) - 1.0
    high = np.percentile(pm[region], 99, axis=0) + 1.0
    bins = [
        np.arange(lo, hi + PM_BIN_MASYR, PM_BIN_MASYR) for lo, hi in zip(low, high, strict=True)
    ]
    counts_region = np.histogram2d(*pm[region].T, bins=bins)[0]
    counts_control = np.histogram2d(*pm[control].T, bins=bins)[0]
    smooth = lambda h: ndimage.gaussian_filter(h, SMOOTHING_BINS, mode="constant")  # noqa: E731
    kernel_sum = 1.0 / (4.0 * np.pi * SMOOTHING_BINS**2)  # sum of the squared kernel
    excess = smooth(counts_region) - scale * smooth(counts_control)
    variance = kernel_sum * (smooth(counts_region) + scale**2 * smooth(counts_control))
    significance = excess / np.sqrt(variance + kernel_sum)
    peaks = (significance == ndimage.maximum_filter(significance, size=7)) & (
        significance >= MIN_WEAK_SIGNIFICANCE
    )
    centres_a = 0.5 * (bins[0][1:] + bins[0][:-1])
    centres_d = 0.5 * (bins[1][1:] + bins[1][:-1])
    found = []
    for i, j in zip(*np.nonzero(peaks), strict=True):
        centre = np.array([centres_a[i], centres_d[j]])
        near = np.hypot(*(pm - centre).T) < CANDIDATE_WINDOW_MASYR
        n_excess = near[region].sum() - scale * near[control].sum()
        found.append((float(significance[i, j]), centre, float(n_excess)))
    found.sort(key=lambda item: -item[0])
    return [
        Candidate(
            f"overdensity {rank + 1} of the cluster region",
            pmra=float(centre[0]),
            pmdec=float(centre[1]),
            parallax=_window_parallax(columns, region, centre),
            excess=n_excess,
            significance=sig,
        )
        for rank, (sig, centre, n_excess) in enumerate(found[:MAX_OVERDENSITIES])
    ]


def control_to_region_area(
    separation: np.ndarray, region: np.ndarray, control: np.ndarray
) -> float:
    """Area of the control annulus over that of the cluster region, from the stars'
    ``separation`` (arcmin) from the cone's centre: the region a disc out to its farthest
    star, the annulus from its nearest to its farthest."""
    region_radius = float(np.nanmax(separation[region]))
    inner, outer = float(np.nanmin(separation[control])), float(np.nanmax(separation[control]))
    return max(outer**2 - inner**2, 1e-12) / max(region_radius**2, 1e-12)


@dataclass(frozen=True)
class SkyRegions:
    """Where a fit's stars lie: ``in_region`` and ``in_control`` (one flag per fitted star,
    in the data's order) and ``control_to_region_area`` (the annulus's area over the
    region's)."""

    in_region: np.ndarray
    in_control: np.ndarray
    control_to_region_area: float

    def concentration(self, membership: np.ndarray) -> float:
        """The members' surface density in the cluster region over that in the control
        annulus: (sum of p in the region / its area) / (sum of p in the annulus / its
        area), for membership probabilities ``membership`` (one per fitted star)."""
        in_region = float(np.sum(membership[self.in_region]))
        in_control = float(np.sum(membership[self.in_control]))
        if in_control <= 0.0:
            return float("inf")
        return in_region / in_control * self.control_to_region_area


def sky_regions(catalog: Any, source_ids: np.ndarray, source: str) -> SkyRegions | None:
    """The :class:`SkyRegions` of the fitted stars ``source_ids`` in ``catalog`` (the
    cleaned catalogue joined with its sky masks), or None when the catalogue has no masks or
    the fitted stars do not cover both the cluster region and the control annulus (a model
    of the cluster region alone cannot take a cluster from the annulus)."""
    from clustermix.checks.ppc_local import aligned

    names = set(getattr(catalog, "colnames", None) or list(catalog.keys()))
    if not {"source_id", "in_cluster_region", "in_control_field", "separation_arcmin"} <= names:
        return None
    region = _flag(catalog, "in_cluster_region", source)
    control = _flag(catalog, "in_control_field", source)
    flags = aligned(source_ids, catalog["source_id"], np.column_stack([region, control]), source)
    if not flags.any(axis=0).all():
        return None
    separation = catalog_column(catalog, "separation_arcmin", source)
    return SkyRegions(flags[:, 0], flags[:, 1], control_to_region_area(separation, region, control))


def _window_parallax(
    columns: dict[str, np.ndarray], rows: np.ndarray, centre: np.ndarray
) -> float | None:
    """Median parallax (mas) of the better-measured stars of ``rows`` near ``centre`` in pm."""
    parallax, error = columns["parallax"], columns["parallax_error"]
    near = rows & (np.hypot(*(columns["pm"] - centre).T) < CANDIDATE_WINDOW_MASYR)
    near &= np.isfinite(parallax) & np.isfinite(error)
    if near.sum() < 3:
        return None
    precise = near & (error <= np.median(error[near]))
    return float(np.median(parallax[precise]))


# ------------------------------------------------------------------------- optimisation


class PosteriorOptimiser:
    """L-BFGS on a model's log posterior in the sampler's unconstrained space, compiled once.

    ``maximise(start)`` takes starting values by free-variable name (constrained, as a
    model's ``initial_values`` gives them) and returns (values by free-variable name at the
    optimum, constrained; the log posterior there, Jacobian included). The log posterior
    and its gradient are the very function PyMC's NUTS then samples with
    (:func:`clustermix.models.compiled.logp_dlogp`, compiled once per model and
    ``compile_mode``: None, PyTensor's C; ``"JAX"`` for a fit that nutpie samples with JAX).
    """

    def __init__(self, model: pm.Model, compile_mode: str | None = None) -> None:
        from pymc.blocking import DictToArrayBijection
        from pymc.initial_point import make_initial_point_fn

        self.model = model
        template = make_initial_point_fn(model=model, jitter_rvs=set(), return_transformed=True)(0)
        self._template = template
        self._names = [var.name for var in model.continuous_value_vars]
        self._map_info = DictToArrayBijection.map(
            {name: template[name] for name in self._names}
        ).point_map_info
        self._logp_dlogp = logp_dlogp(model, compile_mode)
        free = {rv.name for rv in model.free_RVs}
        outs = [var for var in model.unobserved_value_vars if var.name in free]
        self._free = [var.name for var in outs]
        self._constrained = model.compile_fn(inputs=model.value_vars, outs=outs)

    def maximise(self, start: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], float]:
        from pymc.blocking import DictToArrayBijection, RaveledVars
        from pymc.initial_point import make_initial_point_fn

        point = make_initial_point_fn(
            model=self.model, overrides=dict(start), jitter_rvs=set(), return_transformed=True
        )(0)
        x0 = DictToArrayBijection.map({name: point[name] for name in self._names})

        def cost(x: np.ndarray) -> tuple[float, np.ndarray]:
            logp, gradient = self._logp_dlogp(x)
            if not np.isfinite(logp):
                return 1e300, np.zeros_like(x)
            return -float(logp), -np.asarray(gradient, dtype=np.float64)

        result = optimize.minimize(
            cost,
            x0.data,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": MAX_OPTIMISER_ITERATIONS},
        )
        best = DictToArrayBijection.rmap(RaveledVars(result.x, self._map_info), self._template)
        constrained = self._constrained(best)
        values = {name: np.asarray(v) for name, v in zip(self._free, constrained, strict=True)}
        return values, float(self._logp_dlogp(result.x)[0])


# ------------------------------------------------------------------------ the verdict


def mode_quantities(
    module: Any, values: Mapping[str, Any], n_stars: int, candidate: Candidate | None
) -> dict[str, float]:
    """The model's cluster quantities (``MODE_QUANTITIES``) at one point, plus
    ``n_members`` = f N and, for a model without parallax, the candidate's parallax as
    ``parallax_ref`` (mas) for unit conversions."""
    quantities = {
        name: float(np.asarray(values[variable]).mean())
        for name, variable in module.MODE_QUANTITIES.items()
    }
    quantities["n_members"] = quantities["f_cluster"] * n_stars
    if "parallax" not in quantities and candidate is not None and candidate.parallax is not None:
        quantities["parallax_ref"] = float(candidate.parallax)
    return quantities


def cluster_problems(quantities: Mapping[str, float], options: Mapping[str, Any]) -> list[str]:
    """Why a mode is not a cluster (empty: it is one).

    A cluster holds at least ``options["cluster_min_members"]`` stars and its internal 1D
    velocity dispersion is at most ``options["cluster_sigma_v_max_kms"]`` (km/s): a model's
    ``sigma_v`` directly, a proper-motion width ``sigma_pm`` (mas/yr) converted with the
    parallax (the model's, or the candidate's ``parallax_ref``) as sigma_pm 4.74047 / parallax.
    For a model that fits the cluster's centre on the sky (``centre_xi_arcmin``,
    ``centre_eta_arcmin`` about the cone's centre), the cluster the cone is pointed at lies
    within ``options["cluster_centre_max_arcmin"]`` of it: a richer cluster elsewhere in the
    cone is another cluster, not this one's mode. Where the mode's ``concentration`` is known
    (:meth:`SkyRegions.concentration`), it is at least ``options["cluster_min_concentration"]``.
    """
    problems = []
    min_members = float(options.get("cluster_min_members", 0))
    if quantities["n_members"] < min_members:
        problems.append(f"{quantities['n_members']:.1f} members < {min_members:g}")
    offset_max = options.get("cluster_centre_max_arcmin")
    if offset_max is not None and "centre_xi_arcmin" in quantities:
        offset = float(np.hypot(quantities["centre_xi_arcmin"], quantities["centre_eta_arcmin"]))
        if offset > float(offset_max):
            problems.append(
                f"centre {offset:.1f} arcmin from the cone's centre > {float(offset_max):g} "
                "arcmin (another cluster in the cone)"
            )
    min_concentration = options.get("cluster_min_concentration")
    concentration = quantities.get("concentration")
    if min_concentration is not None and concentration is not None:
        if concentration < float(min_concentration):
            problems.append(
                f"its members are {concentration:.2g} times as dense on the sky in the "
                f"cluster region as in the control annulus < {float(min_concentration):g} "
                "(another cluster or a comoving group elsewhere in the cone; or a cluster as "
                "large as the cone, whose control annulus is then no field: widen the cone)"
            )
    sigma_max = options.get("cluster_sigma_v_max_kms")
    if sigma_max is not None:
        sigma_v = quantities.get("sigma_v")
        parallax = quantities.get("parallax", quantities.get("parallax_ref"))
        if sigma_v is None and "sigma_pm" in quantities and parallax and parallax > 0:
            sigma_v = quantities["sigma_pm"] * KMS_PER_MASYR_KPC / parallax
        if sigma_v is not None and sigma_v > float(sigma_max):
            problems.append(f"internal dispersion {sigma_v:.2f} km/s > {float(sigma_max):g} km/s")
    return problems


def same_mode(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Whether two sets of cluster quantities describe one mode (see :data:`SAME_MODE`)."""
    return all(
        abs(a[name] - b[name]) <= tolerance
        for name, tolerance in SAME_MODE.items()
        if name in a and name in b
    )


def matches(quantities: Mapping[str, float], target: Candidate) -> bool:
    """Whether a mode lies near the target candidate (see :data:`TARGET_MATCH`)."""
    reference = {"pmra": target.pmra, "pmdec": target.pmdec, "parallax": target.parallax}
    return all(
        abs(quantities[name] - reference[name]) <= tolerance
        for name, tolerance in TARGET_MATCH.items()
        if name in quantities and reference[name] is not None
    )


@dataclass
class ModeSearch:
    """The outcome of :func:`search_modes`: every candidate, every distinct mode, the target
    and the chosen mode (None if none qualifies)."""

    model: str
    candidates: list[Candidate]
    modes: list[Mode]
    target: Candidate | None
    chosen: Mode | None
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        """JSON-ready record for the trace's attributes and the fit log."""
        return {
            "candidates": [asdict(candidate) for candidate in self.candidates],
            "modes": [mode.record() for mode in self.modes],
            "target": None if self.target is None else self.target.label,
            "chosen": None if self.chosen is None else self.chosen.label,
            "seconds": round(self.seconds, 2),
        }

    def describe(self) -> str:
        lines = [f"  {mode.describe()}" for mode in self.modes]
        return "modes found before sampling:\n" + "\n".join(lines)


def search_modes(
    module: Any,
    model: pm.Model,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    candidates: Sequence[Candidate],
    regions: SkyRegions | None = None,
    compile_mode: str | None = None,
) -> ModeSearch:
    """Optimise the posterior from every candidate (and from the model's own data-driven
    start), merge equal optima, judge each, and pick the cluster's mode (see the module
    docstring). ``regions`` (:func:`sky_regions`): where the fitted stars lie, for the
    concentration of a model with ``cluster_min_concentration``; ``compile_mode``: how the
    log posterior is compiled (:func:`clustermix.models.compiled.compile_mode_for`). Raises
    :class:`ModeError` naming every mode when none qualifies."""
    import time

    started = time.perf_counter()
    optimiser = PosteriorOptimiser(model, compile_mode)
    # judged only where the model has the option (those without sky positions)
    concentration = (
        None
        if regions is None or options.get("cluster_min_concentration") is None
        else _concentration_at(model, regions)
    )
    n_stars = len(data["source_id"])
    starts: list[tuple[str, Candidate | None, dict[str, Any]]] = [
        (candidate.label, candidate, module.start_at(data, options, candidate))
        for candidate in candidates
    ]
    if not any(candidate.label == "hint" for candidate in candidates):
        starts.append(("model's own start", None, module.initial_values(data, options)))
    modes: list[Mode] = []
    for label, candidate, start in starts:
        try:
            values, log_posterior = optimiser.maximise(start)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as err:
            log.info("mode search: no optimum from %s (%s)", label, err)
            continue
        if not np.isfinite(log_posterior):
            continue
        quantities = mode_quantities(module, values, n_stars, candidate)
        if concentration is not None:
            quantities["concentration"] = concentration(values)
        mode = Mode(label, quantities, log_posterior, cluster_problems(quantities, options), values)
        twin = next((m for m in modes if same_mode(m.quantities, quantities)), None)
        if twin is None:
            modes.append(mode)
        elif log_posterior > twin.log_posterior:
            modes[modes.index(twin)] = mode
    modes.sort(key=lambda m: -m.log_posterior)
    target = target_of(candidates)
    search = ModeSearch(module.NAME, list(candidates), modes, target, None)
    search.chosen = choose_mode(modes, target)
    search.seconds = time.perf_counter() - started
    if search.chosen is None:
        what = "no cluster-like mode" + (f" near the {target.label}" if target else "")
        raise ModeError(
            f"{module.NAME}: {what} ({_target_text(target)}); {search.describe()}\n"
            "Give the cluster's approximate parallax and proper motion as clusters[].hint, "
            "or check the cuts and the cone."
        )
    log.info("%s: chose %s\n%s", module.NAME, search.chosen.describe(), search.describe())
    return search


def _concentration_at(model: pm.Model, regions: SkyRegions) -> Any:
    """A function of a point (constrained values by free-variable name) giving the members'
    concentration there (:meth:`SkyRegions.concentration` of the model's ``p_cluster``)."""
    names = [rv.name for rv in model.free_RVs]
    membership = model.compile_fn(
        inputs=model.free_RVs,
        outs=model["p_cluster"],
        on_unused_input="ignore",
        point_fn=False,
        mode="FAST_COMPILE",
    )

    def concentration(values: Mapping[str, Any]) -> float:
        return regions.concentration(np.asarray(membership(*(values[n] for n in names)), float))

    return concentration


def _target_text(target: Candidate | None) -> str:
    if target is None:
        return "no hint and no overdensity in the cluster region"
    quantities = {"pmra": target.pmra, "pmdec": target.pmdec}
    if target.parallax is not None:
        quantities["parallax"] = target.parallax
    return f"target {format_quantities(quantities)}"


def choose_mode(modes: Sequence[Mode], target: Candidate | None) -> Mode | None:
    """The cluster-like mode of highest log posterior, among those near ``target`` if given."""
    eligible = [mode for mode in modes if mode.is_cluster]
    if target is not None:
        eligible = [mode for mode in eligible if matches(mode.quantities, target)]
    return max(eligible, key=lambda mode: mode.log_posterior, default=None)


# ------------------------------------------------------------------------ after sampling


def chain_modes(
    module: Any, posterior: xr.Dataset, n_stars: int, parallax_ref: float | None
) -> list[dict[str, float]]:
    """Per chain, the mean of each cluster quantity, and ``n_members`` (and, for a model
    without parallax, the candidate's ``parallax_ref``) for the cluster verdict."""
    rows = []
    for chain in posterior["chain"].values:
        draws = posterior.sel(chain=chain)
        means = {name: float(draws[var].mean()) for name, var in module.MODE_QUANTITIES.items()}
        means["n_members"] = means["f_cluster"] * n_stars
        if parallax_ref is not None and "parallax" not in means:
            means["parallax_ref"] = parallax_ref
        rows.append(means)
    return rows


def check_chains(
    module: Any,
    posterior: xr.Dataset,
    n_stars: int,
    chosen: Mode,
    options: Mapping[str, Any],
) -> list[dict[str, float]]:
    """Raise :class:`ModeError` unless every chain sat in the chosen mode (see the module
    docstring); returns the per-chain means otherwise."""
    rows = chain_modes(module, posterior, n_stars, chosen.quantities.get("parallax_ref"))
    problems = []
    for name, var in module.MODE_QUANTITIES.items():
        means = np.array([row[name] for row in rows])
        sds = posterior[var].std(dim="draw").values.reshape(len(rows), -1).mean(axis=1)
        pooled = float(np.sqrt(np.mean(sds**2)))
        slack = CHAIN_TOLERANCE_SD * pooled + _CHAIN_TOLERANCE_FLOOR
        if means.max() - means.min() > slack:
            problems.append(f"chains disagree on {name} ({means.min():.4g} to {means.max():.4g})")
        far = (
            np.abs(means - chosen.quantities[name])
            > CHAIN_TOLERANCE_SD * sds + _CHAIN_TOLERANCE_FLOOR
        )
        if far.any():
            problems.append(
                f"chain(s) {[int(i) for i in np.flatnonzero(far)]} left the chosen mode in "
                f"{name} (mode {chosen.quantities[name]:.4g})"
            )
    for index, row in enumerate(rows):
        for problem in cluster_problems(row, options):
            problems.append(f"chain {index} is not a cluster: {problem}")
    if problems:
        lines = [f"  chain {index}: {format_quantities(row)}" for index, row in enumerate(rows)]
        raise ModeError(
            f"{module.NAME}: the chains did not all stay on the cluster's mode "
            f"({chosen.describe()}): {'; '.join(problems)}\n" + "\n".join(lines)
        )
    return rows
