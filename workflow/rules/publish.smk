# Publishing: the arXiv tarball.
