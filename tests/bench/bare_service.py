"""The baseline for the intake benchmark: a bare nameko @http POST that validates the same booking
with marshmallow and dispatches one event with nameko's EventDispatcher. No storage, no outbox."""

import json

from nameko.events import EventDispatcher
from nameko.web.handlers import http

from services.booking.schemas import BookingRequestSchema
from shared.http import read_json

# One schema instance for every request, as the intake does (shared.validation.schema_instance):
# the comparison is about storage and publishing, not about how often fields are built.
SCHEMA = BookingRequestSchema()


class BareIntake:
    name = "bare"
    dispatch = EventDispatcher()

    @http("POST", "/bare")
    def post(self, request):
        booking = SCHEMA.load(read_json(request))
        self.dispatch("request_received", {"channel": booking["channel"], "size": len(booking["applicants"])})
        return 201, json.dumps({"status": "received"})
