"""Membership catalogues: ours, the published ones, and how they overlap.

A cluster's membership catalogue as the workflow publishes it
(:mod:`~clustermix.catalogues.members`), the reference member lists it is compared with
(:mod:`~clustermix.catalogues.reference_members`), and the star-by-star overlap of the two
(:mod:`~clustermix.catalogues.reference_overlap`). Import each module by name; this
package's ``__init__`` imports nothing.
"""
