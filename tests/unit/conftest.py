"""Hypothesis settings for the property-based unit tests.

No per-example deadline: Hypothesis's default fails an example that takes over
200 ms, a timed assertion that a busy 2-core CI machine can trip. Derandomized
so CI runs the same examples every time (a failure reproduces); no example
database is written into the checkout.
"""

from hypothesis import settings

settings.register_profile("runner-image", deadline=None, derandomize=True, database=None)
settings.load_profile("runner-image")
