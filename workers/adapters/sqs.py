"""The orders queue on SQS: publish, receive in batches, delete, dead-letter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from models.ports import DeadLetter, Received
from settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


def sqs_client(settings: Settings, *, timeout: float, attempts: int = 3) -> SQSClient:
    """A boto3 SQS client with bounded timeouts, for the configured endpoint."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": attempts, "mode": "standard"},
    )
    return boto3.client(
        "sqs",
        endpoint_url=settings.sqs_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        config=config,
    )


def _reason(message: MessageTypeDef) -> str:
    attribute = message.get("MessageAttributes", {}).get("reason")
    return attribute.get("StringValue", "") if attribute else ""


# The most messages one look at the dead-letter queue holds; a longer queue is a bigger problem.
MOST_DEAD_LETTERS = 1000


def _dead_letter(message: MessageTypeDef) -> DeadLetter:
    system = message.get("Attributes", {})
    attributes = {
        name: value.get("StringValue", "")
        for name, value in message.get("MessageAttributes", {}).items()
    }
    sent = system.get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message["Body"],
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        reason=_reason(message),
        attributes=attributes,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat() if sent else "",
    )


class OrdersQueue:
    """The orders queue and its dead-letter queue."""

    def __init__(self, client: SQSClient, queue_name: str, dlq_name: str) -> None:
        self._client = client
        self._names = {"main": queue_name, "dlq": dlq_name}
        self._urls: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float, attempts: int = 3) -> OrdersQueue:
        """The queue named in the settings."""
        client = sqs_client(settings, timeout=timeout, attempts=attempts)
        return cls(client, settings.orders_queue, settings.orders_dlq)

    @property
    def name(self) -> str:
        """The main queue's name."""
        return self._names["main"]

    def _url(self, which: str) -> str:
        # Resolved lazily so a process can start while SQS is still down.
        if which not in self._urls:
            self._urls[which] = self._client.get_queue_url(QueueName=self._names[which])["QueueUrl"]
        return self._urls[which]

    def publish(self, document: dict[str, Any]) -> str:
        """Send one document; the SQS message id."""
        response = self._client.send_message(
            QueueUrl=self._url("main"), MessageBody=json.dumps(document)
        )
        return response["MessageId"]

    def publish_batch(self, documents: Sequence[dict[str, Any]]) -> list[str | None]:
        """Send up to ten documents in one SendMessageBatch; each one's message id, or None."""
        if not documents:
            return []
        response = self._client.send_message_batch(
            QueueUrl=self._url("main"),
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps(document)}
                for i, document in enumerate(documents)
            ],
        )
        ids: list[str | None] = [None] * len(documents)
        for entry in response.get("Successful", []):
            ids[int(entry["Id"])] = entry["MessageId"]
        return ids

    def receive(self, *, wait_seconds: int, visibility_timeout: int) -> list[Received]:
        """Up to ten messages, long-polling up to `wait_seconds`."""
        response = self._client.receive_message(
            QueueUrl=self._url("main"),
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            Received(
                message_id=message["MessageId"],
                receipt_handle=message["ReceiptHandle"],
                body=message["Body"],
                receive_count=int(
                    message.get("Attributes", {}).get("ApproximateReceiveCount", "1")
                ),
            )
            for message in response.get("Messages", [])
        ]

    def delete(self, messages: list[Received]) -> list[str]:
        """Delete messages in one batch call; the ids that could not be deleted."""
        if not messages:
            return []
        response = self._client.delete_message_batch(
            QueueUrl=self._url("main"),
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)
            ],
        )
        return [messages[int(failure["Id"])].message_id for failure in response.get("Failed", [])]

    def dead_letter(self, message: Received, reason: str) -> None:
        """Move a message that can never be processed to the DLQ, saying why, then delete it."""
        self._client.send_message(
            QueueUrl=self._url("dlq"),
            MessageBody=message.body,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1000]},
                "original_message_id": {"DataType": "String", "StringValue": message.message_id},
            },
        )
        self._client.delete_message(
            QueueUrl=self._url("main"), ReceiptHandle=message.receipt_handle
        )

    def dead_letters(self, *, wait_seconds: int = 0) -> list[tuple[Received, str]]:
        """Up to ten messages from the DLQ with the reason they were put there (left in place)."""
        response = self._client.receive_message(
            QueueUrl=self._url("dlq"),
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            (
                Received(
                    message_id=m["MessageId"],
                    receipt_handle=m["ReceiptHandle"],
                    body=m["Body"],
                    receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                ),
                _reason(m),
            )
            for m in response.get("Messages", [])
        ]

    def ensure(self, *, max_receive_count: int, visibility_timeout: int) -> None:
        """Create the DLQ and the main queue with its redrive policy, if they are missing."""
        dlq_url = self._client.create_queue(QueueName=self._names["dlq"])["QueueUrl"]
        dlq_arn = self._client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
        main_url = self._client.create_queue(QueueName=self._names["main"])["QueueUrl"]
        # Set separately: create_queue refuses differing attributes on an existing queue.
        self._client.set_queue_attributes(
            QueueUrl=main_url,
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": str(visibility_timeout)},
        )
        self._urls = {"main": main_url, "dlq": dlq_url}

    def depth(self, which: str = "main") -> int:
        """Approximate number of visible messages in the main queue or the DLQ."""
        attributes = self._client.get_queue_attributes(
            QueueUrl=self._url(which), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def hold_dead_letters(self, *, hold_seconds: int) -> list[DeadLetter]:
        """Every message in the DLQ, each hidden for `hold_seconds` so each is seen once.

        Hand them back with `release` (or delete them with `drop`); one not handed back
        reappears by itself once `hold_seconds` pass, so a look never consumes a message.
        """
        held: dict[str, DeadLetter] = {}
        while len(held) < MOST_DEAD_LETTERS:
            response = self._client.receive_message(
                QueueUrl=self._url("dlq"),
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                VisibilityTimeout=hold_seconds,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            held.update((m["MessageId"], _dead_letter(m)) for m in messages)
        return list(held.values())

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Make held dead letters visible again at once."""
        for start in range(0, len(letters), 10):
            self._client.change_message_visibility_batch(
                QueueUrl=self._url("dlq"),
                Entries=[
                    {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                    for i, letter in enumerate(letters[start : start + 10])
                ],
            )

    def send_back(self, letter: DeadLetter) -> str:
        """Send a dead letter's body to the orders queue, naming the message it replays."""
        response = self._client.send_message(
            QueueUrl=self._url("main"),
            MessageBody=letter.body,
            MessageAttributes={
                "replayed_from": {"DataType": "String", "StringValue": letter.message_id}
            },
        )
        return response["MessageId"]

    def drop(self, letter: DeadLetter) -> None:
        """Delete a held dead letter."""
        self._client.delete_message(QueueUrl=self._url("dlq"), ReceiptHandle=letter.receipt_handle)
