"""Text renderers for the field skills' results."""
