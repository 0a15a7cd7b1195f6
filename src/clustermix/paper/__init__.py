"""What the paper reads: numbers as LaTeX macros and tables, the gate, the arXiv tarball.

The table of the paper's products, every figure and number file ``ms.tex`` reads and the
workflow's other final outputs for a config (:mod:`~clustermix.paper.products`),
LaTeX macro files (:mod:`~clustermix.paper.macros`), the numbers quoted about the data
(:mod:`~clustermix.paper.data_numbers`) and the literature (:mod:`~clustermix.paper.literature`),
the cross-cluster table (:mod:`~clustermix.paper.clusters_table`), the convergence gate every
fit passes before its numbers reach the text (:mod:`~clustermix.paper.gate`), and the arXiv
submission tarball (:mod:`~clustermix.paper.arxiv`). Import each module by name; this
package's ``__init__`` imports nothing.
"""
