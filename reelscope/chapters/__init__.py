"""Chapters and analysis modes: prompts and schemas, streamed parsing, checks, cuts, exports."""
