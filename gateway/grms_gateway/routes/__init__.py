"""HTTP routes of the gateway, one module per audience or resource."""
