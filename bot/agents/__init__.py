"""The language layer: LLM-backed routing and narration inside each role's walls, within
budget. Deterministic code keeps doing every count and every write."""
