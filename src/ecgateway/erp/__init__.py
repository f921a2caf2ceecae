"""The ERP boundary: price lines, submit an order, read an order's status."""
