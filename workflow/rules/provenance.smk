# Provenance: the manifest of every figure and number file the paper includes (what made
# it, from `snakemake --detailed-summary` and Snakemake's records, plus hashes, code,
# software, sampler and seed), and the macros that stamp ms.pdf's metadata with the
# manifest's checksum for `clustermix audit`.


rule provenance_manifest:
    input:
        figures=PAPER_FIGURES,
        numbers=PAPER_NUMBERS,
    output:
        manifest="results/provenance.json",
        macros="src/tex/output/provenance.tex",
    log:
        "logs/paper/provenance_manifest.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        configfiles=[os.path.relpath(path) for path in workflow.configfiles],
        command_line_configfiles=[
            os.path.relpath(path) for path in workflow.overwrite_configfiles
        ],
        # the values given with --config (as Snakemake parsed them), so that `snakemake
        # --detailed-summary` (run by the script) sees the same workflow
        command_line_config=dict(workflow.config_settings.config),
        rule_scripts=lambda wildcards: rule_scripts(),
    script:
        "../../scripts/provenance_manifest.py"
