"""LongRM Serve benchmark harness (issue 7) and batching measurements (issue 5). Standard library only."""
