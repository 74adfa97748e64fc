"""What is done with a built image: smoke-test it, publish it, merge arches into one index, describe it (SBOM).

May import pipelines.shared, pipelines.network and pipelines.image.
"""
