"""The Chapters page's pieces: the chapter list, exports, analysis modes, shot cuts."""
