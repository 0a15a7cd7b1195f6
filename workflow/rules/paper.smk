# Paper stage: the convergence gate, the fit results, diagnostics and software versions
# as LaTeX number files, then ms.pdf from src/tex/ms.tex with every figure and number file
# of the paper's products (PAPER_FIGURES / PAPER_NUMBERS / PAPER_SUPPORT, the table that
# rules/common.smk computes from the config).


rule convergence_gate:
    input:
        diagnostics=paper_fit_files("diagnostics.json"),
    output:
        gate="results/gate.json",
        macros="src/tex/output/gate.tex",
    log:
        "logs/paper/convergence_gate.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=PAPER_FIT_NAMES,
        thresholds=config["checks"],
        draft=config["paper"]["draft"],
    script:
        "../../scripts/convergence_gate.py"


rule num_results:
    input:
        summaries=paper_fit_files("summary.json"),
        gate="results/gate.json",
    output:
        macros="src/tex/output/results.tex",
    log:
        "logs/paper/num_results.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=PAPER_FIT_NAMES,
    script:
        "../../scripts/num_results.py"


rule num_diagnostics:
    input:
        diagnostics=paper_fit_files("diagnostics.json"),
    output:
        table="src/tex/output/diagnostics_table.tex",
        setup="src/tex/output/setup_table.tex",
        priors="src/tex/output/priors_table.tex",
    log:
        "logs/paper/num_diagnostics.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=PAPER_FIT_NAMES,
    script:
        "../../scripts/num_diagnostics.py"


rule num_software:
    output:
        macros="src/tex/output/software.tex",
    log:
        "logs/paper/num_software.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        # A new commit rewrites the versions file (and only it and the PDF).
        commit=CODE_COMMIT,
        repository_url=config["paper"]["repository_url"],
    script:
        "../../scripts/num_software.py"


rule num_paper_meta:
    output:
        macros="src/tex/output/paper_meta.tex",
    log:
        "logs/paper/num_paper_meta.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        cluster=cluster_by_name(config, PAPER_CLUSTER),
        sampling=config["sampling"],
    script:
        "../../scripts/num_paper_meta.py"


rule num_models:
    output:
        macros="src/tex/output/models.tex",
    log:
        "logs/paper/num_models.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        fitted=PAPER_FIT_NAMES,
        component_models=COMPONENT_MODELS,
        cmd_model_prose=model_spec(CMD_MODEL).presentation.prose if CMD_MODEL else "",
    script:
        "../../scripts/num_models.py"


rule build_paper:
    input:
        tex="src/tex/ms.tex",
        bib="src/tex/bib.bib",
        # the paper's products (PAPER_PRODUCTS, rules/common.smk)
        figures=PAPER_FIGURES,
        numbers=PAPER_NUMBERS,
        support=PAPER_SUPPORT,
    output:
        pdf="ms.pdf",
    log:
        "logs/paper/build_paper.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "latexmk -g -pdf -interaction=nonstopmode -halt-on-error -cd {input.tex} > {log} 2>&1"
        " || {{ tail -n 40 {log} >&2; exit 1; }};"
        " cp src/tex/ms.pdf {output.pdf}.part && mv {output.pdf}.part {output.pdf}"
