"""ecgateway: an on-behalf-of gateway in front of JD Edwards EnterpriseOne."""

__version__ = "0.1.0"
