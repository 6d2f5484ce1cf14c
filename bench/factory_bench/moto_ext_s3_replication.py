"""moto extension: ``GetBucketReplication`` returns the rule that was put, not a fixed shape.

moto 5.2 stores the whole replication rule but answers ``GetBucketReplication`` with a fixed
``Filter {Prefix: ""}`` and ``DeleteMarkerReplication Disabled``, dropping
``SourceSelectionCriteria`` (and any real filter). S3 needs ``SourceSelectionCriteria /
SseKmsEncryptedObjects Enabled`` to replicate SSE-KMS objects at all, so the ``data-bucket``
module sets it, and Terraform would then see drift on every plan. This answers with the stored
fields, as S3 does.

Loaded by :mod:`factory_bench.moto_server` at start-up (``install()``).
"""

from __future__ import annotations

from typing import Any

# Rule fields S3 echoes back as they were put (moto keeps xmltodict's parse of the request).
_ECHOED = ("SourceSelectionCriteria", "ExistingObjectReplication", "Filter",
           "DeleteMarkerReplication")


def rule_as_returned(rule: dict[str, Any]) -> dict[str, Any]:
    returned: dict[str, Any] = {
        "ID": rule["ID"],
        "Priority": rule.get("Priority", 0),
        "Status": rule["Status"],
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Filter": {"Prefix": ""},
        "Destination": rule["Destination"],
    }
    for field in _ECHOED:
        value = rule.get(field)
        # xmltodict gives None for an empty element such as <Filter/>; keep moto's default then.
        if isinstance(value, dict) and value:
            returned[field] = value
    return returned


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    def get_bucket_replication(self: Any) -> Any:
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = [rule_as_returned(rule) for rule in replication["Rule"]]
        config = {"Role": replication["Role"], "Rules": rules}
        return self.serialized(ActionResult({"ReplicationConfiguration": config}))

    S3Response.get_bucket_replication = get_bucket_replication  # type: ignore[method-assign]
