// The RedisBackend module; see DESIGN.md for what it owns.
