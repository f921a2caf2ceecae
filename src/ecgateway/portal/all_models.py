"""Imports every module that declares portal tables, so Base.metadata knows them all."""

from ecgateway.portal import models  # noqa: F401  users, EC_Impersonate_Restrictions
