"""Rule reference_members: every reference member list of one cluster in one ECSV table."""

from clustermix.catalogues.reference_members import (
    file_list,
    truth_list,
    vizier_list,
    write_reference_members,
)
from clustermix.scripting import logged

with logged(snakemake) as log:
    lists = []
    if snakemake.input.get("truth"):
        lists.append(truth_list(snakemake.input.truth))
    for catalogue, members, provenance in zip(
        snakemake.params.catalogues,
        snakemake.input.vizier_members,
        snakemake.input.vizier_provenance,
        strict=True,
    ):
        lists.append(vizier_list(catalogue, members, provenance))
    where = f"clusters[{snakemake.params.cluster_index}].reference_members"
    for index, entry in enumerate(snakemake.params.files):
        lists.append(file_list(entry, index, where=f"{where}[{index}]"))
    write_reference_members(lists, snakemake.output.references)
    for item in lists:
        log.info(
            "%s: %d stars listed, %d members (%s)",
            item.info.key,
            item.info.n_listed,
            item.info.n_members,
            item.info.origin,
        )
    if not lists:
        log.info("no reference member list for this cluster")
