// The Gateway module; see DESIGN.md for what it owns.
