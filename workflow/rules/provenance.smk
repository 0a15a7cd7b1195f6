# Provenance: the manifest of every figure and number the paper includes.
