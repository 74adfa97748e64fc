"""Staying current: each pin against upstream's newest (updates) and pins.toml rewritten (bump).

May import pipelines.shared and pipelines.network.
"""
