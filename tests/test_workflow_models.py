"""The model stage's rules, by dry run: which jobs the config asks for."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_NAMES
from clustermix.models.registry import cluster_model_names

from .conftest import run_snakemake


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as {rule: count}."""
    counts = {}
    for line in output.split("Job stats:", 1)[1].splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def n_cluster_fits(config: dict) -> int:
    """How many cluster fits ``config`` asks for: each cluster's models, summed."""
    return sum(len(cluster_model_names(config, cluster["name"])) for cluster in config["clusters"])


def stub_missing_models(workdir: Path) -> None:
    """Model modules still being written elsewhere: empty files so the DAG can be built."""
    for name in MODEL_NAMES:
        path = workdir / "src" / "clustermix" / "models" / name / "model.py"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_text('"""Placeholder for the dry run."""\n')


def test_dry_run_lists_every_enabled_model(workdir: Path) -> None:
    stub_missing_models(workdir)
    process = run_snakemake(workdir, "-n", "--configfile", "config/test.yaml")
    counts = job_counts(process.stdout + process.stderr)
    config = yaml.safe_load((workdir / "config/test.yaml").read_text())
    n_clusters = len(config["clusters"])
    assert counts["fit_model"] == counts["summarize_fit"] == n_cluster_fits(config)
    assert counts["membership_table"] == n_clusters
    assert counts["members_catalog"] == n_clusters  # `all` builds the catalogues too
    assert counts["fit_example"] == 1
    assert counts["summarize_example"] == 1
    text = process.stdout + process.stderr
    for name in ("pmra_1d", "parallax_1d", "pm_2d", "phase_space"):
        assert f"results/ngc6819/traces/{name}.nc" in text
    assert "results/examples/line_outliers/trace.nc" in text
    assert "resources/ngc6819/truth.json" in text  # summaries see the truth


def test_dry_run_follows_the_models_config(workdir: Path) -> None:
    stub_missing_models(workdir)
    config = {
        "sampling": {"chains": 2, "draws": 100, "tune": 100},
        "models": {
            "line_outliers": {"enabled": False},
            "phase_space": {"enabled": False},
            "pm_2d": {"chains": 3},
        },
    }
    (workdir / "config" / "models.yaml").write_text(yaml.safe_dump(config))
    process = run_snakemake(
        workdir,
        "-n",
        "--configfile",
        "config/test.yaml",
        "config/models.yaml",
        "--cores",
        "8",
    )
    text = process.stdout + process.stderr
    counts = job_counts(text)
    clusters = yaml.safe_load((workdir / "config/test.yaml").read_text())["clusters"]
    assert counts["fit_model"] == n_cluster_fits({"clusters": clusters, **config})
    assert "fit_example" not in counts
    assert "phase_space" not in text
    # its figures go too, and the paper is told which models it has (rule num_models)
    assert "fig_galactocentric" not in counts and counts["num_models"] == 1
    # a fit asks a cluster scheduler for one core per chain (SLURM's --cpus-per-task) and
    # Snakemake for one thread, and goes before the other jobs (priority 1)
    cpus = dict(
        re.findall(r"model=(\w+)\n\s+priority: 1\n\s+resources: [^\n]*cpus_per_task=(\d+)", text)
    )
    assert cpus == {"pmra_1d": "2", "parallax_1d": "2", "pm_2d": "3"}
    fit_jobs = [job for job in text.split("\n\n") if re.search(r"^rule fit_model:$", job, re.M)]
    assert fit_jobs and not any("threads:" in job for job in fit_jobs)


def test_a_cluster_is_fitted_with_its_own_models(workdir: Path) -> None:
    """The tiny config lists M67's models (clusters[].models): its dry run plans M67's fits,
    checks and memberships of those models only, NGC 6819's (no list) of every model."""
    stub_missing_models(workdir)
    config = yaml.safe_load((workdir / "config/test.yaml").read_text())
    listed = {cluster["name"]: cluster.get("models") for cluster in config["clusters"]}
    assert listed["ngc6819"] is None and listed["m67"]
    assert set(listed["m67"]) < set(CLUSTER_MODEL_NAMES)
    process = run_snakemake(workdir, "-n", "--configfile", "config/test.yaml")
    text = process.stdout + process.stderr
    fits = set(re.findall(r"results/(\w+)/traces/(\w+)\.nc", text))
    assert fits == {
        *(("ngc6819", model) for model in CLUSTER_MODEL_NAMES),
        *(("m67", model) for model in listed["m67"]),
    }
    for model in set(CLUSTER_MODEL_NAMES) - set(listed["m67"]):
        for kind in ("summary", "diagnostics", "ppc"):
            assert f"results/m67/{kind}/{model}.json" not in text
        assert f"results/m67/membership/{model}.fits" not in text


def test_examples_is_not_a_cluster(workdir: Path) -> None:
    stub_missing_models(workdir)
    process = run_snakemake(workdir, "-n", "results/examples/traces/pm_2d.nc", check=False)
    assert process.returncode != 0
    assert "MissingRuleException" in process.stdout + process.stderr


def test_each_cluster_takes_its_catalogue_from_its_own_source(workdir: Path) -> None:
    """The tiny config mixes sources: NGC 6819 simulated, M67 a user's file. Making M67 an
    archive cluster asks the Gaia archive and VizieR for M67 alone, and the simulator for
    NGC 6819 alone; no truth is read for a cluster that is not simulated."""
    config = yaml.safe_load((workdir / "config/test.yaml").read_text())
    clusters = config["clusters"]
    assert [cluster.get("source") for cluster in clusters] == [None, "file"]
    clusters[1].update(source="archive", path=None, reference_members=[])
    (workdir / "config" / "mixed.yaml").write_text(yaml.safe_dump({"clusters": clusters}))
    process = run_snakemake(workdir, "-n", "--configfile", "config/test.yaml", "config/mixed.yaml")
    text = process.stdout + process.stderr
    counts = job_counts(text)
    assert counts["simulate_field"] == 1 and counts["query_gaia"] == 1
    assert counts["query_reference_members"] == 2  # Hunt & Reffert 2023, Cantat-Gaudin 2020
    assert "resources/m67/gaia_dr3.fits" in text and "resources/m67/truth.json" not in text
    assert "resources/ngc6819/gaia_dr3_simulated.fits" in text
    assert "resources/ngc6819/gaia_dr3.fits" not in text


def test_every_job_asks_slurm_for_memory_and_time(workdir: Path) -> None:
    """Account and partition given as the SLURM profile says (`--default-resources`, which
    replaces the profiles' whole `default-resources`): every job still asks for the memory
    and wall time of its own rule, not a fallback of Snakemake's."""
    process = run_snakemake(
        workdir,
        "-n",
        "--configfile",
        "config/test.yaml",
        "--profile",
        "workflow/profiles/slurm",
        "--default-resources",
        "slurm_account=a",
        "slurm_partition=p",
    )
    text = process.stdout + process.stderr
    blocks = re.split(r"^(?:local)?rule (\w+):$", text, flags=re.M)[1:]
    resources = {}
    for rule, block in zip(blocks[::2], blocks[1::2], strict=True):
        found = re.search(r"^\s+resources: (.*)$", block, re.M)
        resources.setdefault(rule, []).append(found.group(1) if found else "")
    assert len(resources) > 30
    without = {
        rule
        for rule, jobs in resources.items()
        if not all(re.search(r"\bmem_mb=\d+", job) and "runtime=" in job for job in jobs)
    }
    assert without == {"all"}, without
