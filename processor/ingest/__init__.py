"""Mail in to verdict: store each message, read it, decide, record."""
