"""Generation: requests built from typed parts, answers as a sequence of typed events."""
