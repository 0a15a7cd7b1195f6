# Many clusters: the summary table across every configured cluster.
