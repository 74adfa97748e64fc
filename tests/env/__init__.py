"""The test environment: the engine build, the Python runtime stand-in, testenv.sh."""
