"""Stage 4, the build: page discovery and cache keys, running notebooks (local pool or Dask), the table of
contents, the Sphinx build and its theme extension, publishing, the PDF and the benchmarks."""
