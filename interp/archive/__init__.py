"""The record: every session in one SQLite file, searchable, exportable."""
