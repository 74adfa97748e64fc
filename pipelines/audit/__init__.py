"""check and scan: an image (ours or anyone's) against what ARC's chart does with it, and its known vulnerabilities.

The chart's facts, the probes that run in the image, check's report; grype's
report as rows and the gate on fixable ones (findings, scan). May import
pipelines.shared only: it builds nothing.
"""
