"""What staff read and download: the status table, exports, the compiled report."""
