"""Pages of 组织联建, one module per part."""
