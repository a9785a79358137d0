"""Stage 1, the data: the project's folders, the tables and their vocabularies, validation, reference data,
Excel import and export, review years. Modules here read and write `data/` and nothing else."""
