// The RESP module; see DESIGN.md for what it owns.
