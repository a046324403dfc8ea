"""A reviewer's verdict on ticket T-4, recorded after its run ended."""

import botanu

botanu.enable(service_name="review-desk", exporter="local")
botanu.resolve_outcome(
    "T-4", "success", value_type="tickets_resolved", value_amount=1, source="review"
)
botanu.disable()
