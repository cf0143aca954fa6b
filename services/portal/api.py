"""The portal serves pages, not an API: its OpenAPI document lists only what every service serves
for operations (shared.openapi)."""

from shared.openapi import document

OPENAPI = document(
    "portal",
    "The staff screens (reception and the crew's tablet): server-rendered Japanese pages that call the "
    "other services' APIs with the signed-in staff member's token. Pages are not part of this document.",
    [],
)
