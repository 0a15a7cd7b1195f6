# Shared by every stage: config validation, wildcard constraints and the input
# functions that turn the config into file lists. No science here.
from snakemake.utils import validate

from clustermix.config import check_config, cluster_by_name
from clustermix.errors import ConfigError


validate(config, schema="../schemas/config.schema.yaml")
try:
    check_config(config)
except ConfigError as err:
    raise WorkflowError(f"invalid config: {err}") from None

CLUSTERS = [cluster["name"] for cluster in config["clusters"]]


wildcard_constraints:
    cluster="[a-z0-9][a-z0-9_]*",


def cluster_config(wildcards):
    """The config entry of the cluster named by the {cluster} wildcard."""
    return cluster_by_name(config, wildcards.cluster)


def raw_catalog(wildcards):
    """The Gaia catalogue that enters the workflow, by data.source."""
    source = config["data"]["source"]
    if source == "simulated":
        return f"resources/{wildcards.cluster}/gaia_dr3_simulated.fits"
    if source == "archive":
        return f"resources/{wildcards.cluster}/gaia_dr3.fits"
    return cluster_config(wildcards).get("path") or config["data"]["path"]


def all_outputs():
    """Every final output of the workflow, for rule all."""
    return expand(
        [
            "results/{cluster}/catalog.fits",
            "results/{cluster}/masks.fits",
        ],
        cluster=CLUSTERS,
    )
