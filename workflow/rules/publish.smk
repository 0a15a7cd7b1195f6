# Publishing: the arXiv tarball -> arxiv.tar.gz. arXiv does not run BibTeX and may lack
# the AASTeX class, so the tarball holds ms.tex, its ms.bbl, the class file and every
# figure and number file the paper reads (as figures/..., output/...), and nothing else.
# The .bbl is made from exactly these files in a staging directory (not taken from the
# build_paper run, whose .bbl is no declared output); see src/clustermix/paper/arxiv.py.

FINAL_OUTPUTS.append("arxiv.tar.gz")


rule arxiv_tarball:
    input:
        tex="src/tex/ms.tex",
        bib="src/tex/bib.bib",
        # Functions, evaluated once every stage has registered its files.
        figures=lambda wildcards: PAPER_FIGURES,
        numbers=lambda wildcards: PAPER_NUMBERS,
        support=lambda wildcards: PAPER_SUPPORT,
    output:
        tarball="arxiv.tar.gz",
    log:
        "logs/paper/arxiv_tarball.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/arxiv_tarball.py"
