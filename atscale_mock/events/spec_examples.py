"""The example payloads of AtScale's "Engine Webhooks" page, as data (copied from
tests/golden/spec/, which holds them verbatim; a test keeps the two equal). Used for
the examples of ``schema --openapi``."""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, Any]] = {
    "batch-result": {
        "event_type": "aggregate_batch_result",
        "id": "378f70a0-9d1f-4591-b64f-89008b079075",
        "context": {"org_id": "default", "project_id": "91db9aa1-8947-4e7a-b613-af2ea485990d"},
        "error": None,
        "cube_id": "48d6ad30-f139-4f77-517f-36158d7b032b",
    },
    "batch-start": {
        "event_type": "aggregate_batch_started",
        "id": "378f70a0-9d1f-4591-b64f-89008b079075",
        "context": {"org_id": "default", "project_id": "91db9aa1-8947-4e7a-b613-af2ea485990d"},
        "is_full_build": False,
        "cube_id": "48d6ad30-f139-4f77-517f-36158d7b032b",
    },
    "prune-result": {
        "event_type": "aggregate_prune_result",
        "id": "378f70a0-9d1f-4591-b64f-89008b079075",
        "context": {"org_id": "default", "project_id": "91db9aa1-8947-4e7a-b613-af2ea485990d"},
        "cube_id": "48d6ad30-f139-4f77-517f-36158d7b032b",
    },
    "schema-publish": {
        "event_type": "publish_schema_response",
        "callback_url": "http://localhost:10502/webhooks/debug/test-callback",
        "created_by_user": "vpareto",
    },
    "slow-agg-build": {
        "type": "aggregate-build-completed-event",
        "status": "done",
        "duration": 7623,
        "instance_id": "b4a8bc98-ea83-4167-8dd4-7f6e8eb0e439",
        "definition_id": "f314e8da-2d54-4297-93e7-aa5b957751e4",
        "triggering_query_id": "8958cebf-8350-4fff-8347-ecec4b06ac88",
        "org_id": "default",
        "project_id": "91db9aa1-8947-4e7a-b613-af2ea485990d",
        "event_type": "slow_agg_builds",
        "cube_id": "48d6ad30-f139-4f77-517f-36158d7b032b",
    },
    "slow-query": {
        "event_type": "slow_query_event",
        "query_id": "04dd09c8-4cfd-47b6-9dba-caf970880d6e",
        "finished_at": "2021-12-07T15:44:07.077397Z",
        "org_id": "default",
        "query_success": True,
        "time_taken": 3.7080559730529785,
        "project_id": "91db9aa1-8947-4e7a-b613-af2ea485990d",
        "cube_id": "48d6ad30-f139-4f77-517f-36158d7b032b",
    },
    "unpublish": {
        "event_type": "unpublish_schema_success",
        "context": {"org_id": "default", "project_id": "161d6ee9-7548-4004-46e7-89b15d70cd5b"},
    },
}


#: The same examples as the page prints them, whitespace included (``check`` sends these
#: bytes as they are; a test keeps them equal to tests/golden/spec/).
TEXTS: dict[str, str] = {
    "batch-result": '{\n"event_type" : "aggregate_batch_result",\n"id" : "378f70a0-9d1f-4591-b64f-89008b079075",\n"context" : {\n"org_id" : "default",\n"project_id" : "91db9aa1-8947-4e7a-b613-af2ea485990d"\n},\n"error" : null,\n"cube_id" : "48d6ad30-f139-4f77-517f-36158d7b032b"\n}\n',
    "batch-start": '{\n"event_type" : "aggregate_batch_started",\n"id" : "378f70a0-9d1f-4591-b64f-89008b079075",\n"context" : {\n"org_id" : "default",\n"project_id" : "91db9aa1-8947-4e7a-b613-af2ea485990d"\n},\n"is_full_build" : false,\n"cube_id" : "48d6ad30-f139-4f77-517f-36158d7b032b"\n}\n',
    "prune-result": '{\n"event_type" : "aggregate_prune_result",\n"id" : "378f70a0-9d1f-4591-b64f-89008b079075",\n"context" : {\n"org_id" : "default",\n"project_id" : "91db9aa1-8947-4e7a-b613-af2ea485990d"\n},\n"cube_id" : "48d6ad30-f139-4f77-517f-36158d7b032b"\n}\n',
    "schema-publish": '{\n"event_type": "publish_schema_response",\n"callback_url": "http://localhost:10502/webhooks/debug/test-callback",\n"created_by_user": "vpareto"\n}\n',
    "slow-agg-build": '{\n"type" : "aggregate-build-completed-event",\n"status" : "done",\n"duration" : 7623,\n"instance_id" : "b4a8bc98-ea83-4167-8dd4-7f6e8eb0e439",\n"definition_id" : "f314e8da-2d54-4297-93e7-aa5b957751e4",\n"triggering_query_id" : "8958cebf-8350-4fff-8347-ecec4b06ac88",\n"org_id" : "default",\n"project_id" : "91db9aa1-8947-4e7a-b613-af2ea485990d",\n"event_type" : "slow_agg_builds",\n"cube_id" : "48d6ad30-f139-4f77-517f-36158d7b032b"\n}\n',
    "slow-query": '{\n"event_type" : "slow_query_event",\n"query_id" : "04dd09c8-4cfd-47b6-9dba-caf970880d6e",\n"finished_at" : "2021-12-07T15:44:07.077397Z",\n"org_id" : "default",\n"query_success" : true,\n"time_taken" : 3.7080559730529785,\n"project_id" : "91db9aa1-8947-4e7a-b613-af2ea485990d",\n"cube_id" : "48d6ad30-f139-4f77-517f-36158d7b032b"\n}\n',
    "unpublish": '{\n"event_type" : "unpublish_schema_success",\n"context" : {\n"org_id" : "default",\n"project_id" : "161d6ee9-7548-4004-46e7-89b15d70cd5b"\n}\n}\n',
}
