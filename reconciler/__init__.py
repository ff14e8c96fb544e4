"""xtap: cross-tenant access policy as code for Microsoft Entra."""
