"""Pure domain rules: data in, decision out. Standard library only."""
