"""One file per schema revision; the first is the schema of release 0.1.0 (main 9df1c91)."""
