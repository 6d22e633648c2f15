"""服务联动: one module per part (surveys, demands, cases, groups, activities)."""
