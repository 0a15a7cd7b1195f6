"""Where every output came from, and whether it is still up to date.

The configuration hash, code version and package versions stamped into each output
(:mod:`~clustermix.provenance.origin`), the clustermix modules and packages a rule's script
runs (:mod:`~clustermix.provenance.code_imports`), the provenance manifest of the paper's
figures and numbers (:mod:`~clustermix.provenance.manifest`), ``clustermix audit``
(:mod:`~clustermix.provenance.audit`), what Snakemake records about a run, through its command
line (:mod:`~clustermix.provenance.snakemake_summary`) and its private records
(:mod:`~clustermix.provenance.snakemake_records`), and where a finished run put its outputs
(:mod:`~clustermix.provenance.outputs`, ``python -m clustermix.provenance.outputs``). Import
each module by name; this package's ``__init__`` imports nothing.
"""
