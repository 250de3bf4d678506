"""Export snapshots: judgements -> TRL preference pairs or SFT rows, as JSONL, Parquet and HF folders.

Other code imports the service from `annotate.export`."""
