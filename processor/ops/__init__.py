"""Running intake for months: init, health, backup, logging, progress."""
