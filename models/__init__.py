"""Everything but the frameworks: domain rules, ports, tables, the store and the services."""
