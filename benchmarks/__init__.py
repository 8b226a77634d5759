"""Benchmarks: the warehouse load against the raw COPY floor, at several scales."""
