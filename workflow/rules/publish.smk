# Publishing: the arXiv tarball -> arxiv.tar.gz. arXiv does not run BibTeX and may lack
# the AASTeX class, so the tarball holds ms.tex, its ms.bbl, the class file and every
# figure and number file the paper reads (as figures/..., output/...), and nothing else.
# The .bbl is made from exactly these files in a staging directory (not taken from the
# build_paper run, whose .bbl is no declared output); see src/clustermix/paper/arxiv.py.


rule arxiv_tarball:
    input:
        tex="src/tex/ms.tex",
        bib="src/tex/bib.bib",
        # the paper's products (PAPER_PRODUCTS, rules/common.smk)
        figures=PAPER_FIGURES,
        numbers=PAPER_NUMBERS,
        support=PAPER_SUPPORT,
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
