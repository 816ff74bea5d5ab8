"""Preparing shop tables: fields folded, identifiers read, columns built once per distinct value."""
