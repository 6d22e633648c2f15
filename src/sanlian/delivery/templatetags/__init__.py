"""Template helpers of 服务联动, one module per part."""
