"""Stage 2, the analysis: what the book computes from the ledger (roll-ups, rates, changes, evidence
profiles) and the claim audit with its rules. Reads through `lancs_evidence.data`; writes nothing but the
audit's result file."""
