"""OCPI 2.2.1 HubClientInfo (mod_hub_client_info.asciidoc): which parties a hub reaches."""
