"""Commissioning the AP market: `frameworks` (an LA's frameworks and lots, providers' evidence and
their approval onto lots, and whether a provider may be called off today), `directory` (approved
providers as a school lead searches them). `web` holds their pages."""
