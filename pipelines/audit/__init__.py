"""check: an image (ours or anyone's) against what ARC's chart does with it in each mode.

The chart's facts, the probes that run in the image, and the report. May
import pipelines.shared only: it builds nothing.
"""
