"""Rule provenance_manifest: results/provenance.json and the PDF's provenance macros."""

from clustermix.io import sha256_file, write_json_atomic, write_text_atomic
from clustermix.provenance.manifest import build_manifest, manifest_macros
from clustermix.scripting import logged

with logged(snakemake):
    manifest = build_manifest(
        figures=list(snakemake.input.figures),
        numbers=list(snakemake.input.numbers),
        configfiles=snakemake.params.configfiles,
        command_line_configfiles=snakemake.params.command_line_configfiles,
        command_line_config=snakemake.params.command_line_config,
        config=snakemake.config,
        rule_scripts=snakemake.params.rule_scripts,
    )
    write_json_atomic(manifest, snakemake.output.manifest)
    write_text_atomic(
        manifest_macros(
            sha256_file(snakemake.output.manifest),
            manifest["code_version"],
            snakemake.output.manifest,
        ),
        snakemake.output.macros,
    )
