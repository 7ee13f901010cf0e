"""ringback's development tooling: provider simulators, the demo, local DAG runs, the benchmark
and the report's browser check. Not part of the ``ringback`` wheel or the Docker image."""
