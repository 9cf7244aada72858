"""Interfaces to the outside systems (warehouse, workbook, bot state) and their implementations."""
