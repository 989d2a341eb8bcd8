"""Generated contract tests: every contract checked as an independent unit."""
