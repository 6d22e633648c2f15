"""Reads and the few writes of 数据分析; each module loads what the links record, calls a
pure method of `insights.methods` and shapes the result for a page, the API or an export."""
