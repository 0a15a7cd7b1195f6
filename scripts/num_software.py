"""Rule num_software: package versions and the code version (git commit) for the paper."""

from clustermix.paper.macros import software_macros, write_macros
from clustermix.provenance.origin import code_version, package_versions
from clustermix.scripting import logged

with logged(snakemake):
    macros = software_macros(package_versions(), code_version())
    macros["RepositoryUrl"] = snakemake.params.repository_url or ""
    write_macros(macros, snakemake.output.macros, made_by=f"rule {snakemake.rule}")
