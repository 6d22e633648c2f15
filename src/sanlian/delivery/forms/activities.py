"""activities part of 服务联动."""
