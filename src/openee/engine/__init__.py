"""The chunk engine: grids cut into chunks run on an executor within a deadline and a memory
budget, and region reductions. Algorithms build on it; it knows nothing of requests."""
