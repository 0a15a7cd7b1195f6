"""Rule fig_line_outliers: the straight line with outliers, least squares against the mixture."""

from clustermix.fit.membership import membership_probabilities
from clustermix.fit.sampling import load_trace
from clustermix.models.line_outliers import SPEC
from clustermix.models.line_outliers import model as line_outliers
from clustermix.models.registry import model_options
from clustermix.plotting.line import line_outliers_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake):
    options = model_options(line_outliers, snakemake.params.options)
    data = line_outliers.prepare_data(None, options, "the tutorial's points")
    idata = load_trace(snakemake.input.trace)
    p_inlier = membership_probabilities(line_outliers.build_model(data, options), idata)
    fig = line_outliers_figure(
        data["x"],
        data["y"],
        data["y_err"],
        data["is_outlier"],
        p_inlier,
        idata.posterior["m"].values,
        idata.posterior["b"].values,
        line_outliers.TUTORIAL_TRUTH,
        SPEC.presentation.colour,
    )
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))
