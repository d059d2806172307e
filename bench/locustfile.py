"""Locust FastHttpUser peer for `make bench`: JSON POSTs with fresh UUIDs, no wait."""

import uuid

from locust import FastHttpUser, constant, task


class WebhookUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def order_created(self) -> None:
        self.client.post(
            "/webhooks/payments/orders",
            json={
                "provider_event_id": str(uuid.uuid4()),
                "order_id": str(uuid.uuid4()),
                "user_id": str(uuid.uuid4()),
                "status": "created",
                "created_at": "2026-11-26T12:00:00Z",
                "updated_at": "2026-11-26T12:00:00Z",
            },
        )
