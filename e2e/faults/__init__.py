"""Fault tests of the real `tessera` binary (issue 14): kill -9, disk faults,
database outages, several instances on one database. See README.md here."""
