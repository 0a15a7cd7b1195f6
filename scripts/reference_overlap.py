"""Rule reference_overlap: our adopted memberships against each reference member list."""

from clustermix.catalogues.reference_overlap import run_reference_overlap
from clustermix.scripting import logged

with logged(snakemake) as log:
    record = run_reference_overlap(
        snakemake.input.members,
        snakemake.input.references,
        snakemake.output.overlap,
        cluster=snakemake.wildcards.cluster,
    )
    for entry in record["references"]:
        log.info(
            "%s: %d of %d members matched; p > 0.5 for %.3f, p > 0.7 for %.3f; "
            "%.3f of our %d members (p > 0.5) are theirs",
            entry["key"],
            entry["n_members_matched"],
            entry["n_members"],
            entry["frac_theirs_p_gt_0.5"],
            entry["frac_theirs_p_gt_0.7"],
            entry["frac_ours_in_their_members"],
            entry["n_ours"],
        )
