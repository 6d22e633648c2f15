"""资源联合: one module per part (funding, projects, ledger)."""
