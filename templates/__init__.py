"""Package marker so Jinja2 templates install with the code."""
