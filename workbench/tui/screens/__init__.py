"""Screens compose widgets and route messages; service work goes through the app's workers."""
