"""Benchmark of the flights pipeline at scale: a data generator and one command that compares
the pipeline (in process and with the multiprocess executor) with raw DuckDB and a pandas path.

Run ``python -m bench.run --help``; results and how they were obtained are in bench/RESULTS.md.
"""
