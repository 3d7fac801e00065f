"""Forms: shape only; the services decide what is allowed."""
