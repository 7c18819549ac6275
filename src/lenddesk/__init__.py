"""LendDesk — 网贷售后客服与逾期管理系统."""

__version__ = "0.1.0"
