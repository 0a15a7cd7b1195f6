"""Rule arxiv_tarball: ms.tex, its .bbl, the class file, figures and numbers as one tarball."""

from clustermix.paper.arxiv import build_arxiv_tarball
from clustermix.scripting import logged

with logged(snakemake) as log:
    members = build_arxiv_tarball(
        snakemake.input.tex,
        snakemake.input.bib,
        [*snakemake.input.figures, *snakemake.input.numbers, *snakemake.input.support],
        snakemake.output.tarball,
    )
    log.info("%d files in %s", len(members), snakemake.output.tarball)
