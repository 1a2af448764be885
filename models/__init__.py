"""Tables, sessions, migrations and the pure domain rules."""
