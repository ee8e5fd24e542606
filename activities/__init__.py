"""Activities: one module per outside system. Local implementations write to our own tables."""
