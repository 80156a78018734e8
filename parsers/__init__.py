"""Pure parsing stages: bytes in, typed results out. No I/O, no globals."""
