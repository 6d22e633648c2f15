"""ledger part of 资源联合."""
