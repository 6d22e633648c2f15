"""Sanlian's benchmarks: seed a city into PostgreSQL, time search and the Excel import."""
