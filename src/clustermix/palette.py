"""The colour-blind safe palette of every figure (Okabe & Ito 2008), hex strings.

Its own module, with no imports, so that a model's presentation
(:class:`clustermix.models.spec.Presentation`) can name its colour without loading
matplotlib.
"""

PALETTE: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
