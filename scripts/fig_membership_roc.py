"""Rule fig_membership_roc: ROC and precision-recall curves of the membership probabilities."""

from clustermix.checks.validation import read_membership
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.plotting.validation import plot_membership_roc
from clustermix.scripting import logged

with logged(snakemake) as log:
    probabilities, labels = read_membership(snakemake.input.membership, snakemake.params.models)
    log.info("%d stars, %d true members", labels.size, labels.sum())
    fig = plot_membership_roc(probabilities, labels)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))
