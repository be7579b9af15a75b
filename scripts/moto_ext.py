"""strata's moto server: moto (pinned in scripts/local-aws.sh), with fixes for the places
where moto's answers differ from AWS's in ways the AWS SDK for Rust refuses.

Run it instead of `moto_server`, with the same arguments:
    .venv/bin/python scripts/moto_ext.py -H 127.0.0.1 -p 5555

Fixes (each one documented with the AWS behaviour it restores):
- S3 GetBucketVersioning: AWS answers with a `VersioningConfiguration` root element;
  moto 5.2.5 answers `GetBucketVersioningResponse`, which the SDK refuses to parse.

- ElastiCache CreateReplicationGroup with NumCacheClusters (cluster mode disabled): AWS
  makes that many nodes; moto 5.2.5 makes one unless ReplicasPerNodeGroup is given.

- ElastiCache DeleteReplicationGroup: AWS removes the group once deleted (describe then
  answers ReplicationGroupNotFoundFault); moto 5.2.5 leaves it "deleting" forever.

- EC2 CreateLaunchTemplateVersion with UserData: AWS launches instances from the new
  version; moto 5.2.5 stores the user data unwrapped, and an auto scaling group that
  launches from that version fails an assertion (HTTP 500).

- CloudFront origins: AWS keeps an S3 origin's `S3OriginConfig` (OriginAccessIdentity,
  OriginReadTimeout) and an origin's `OriginAccessControlId`, and answers them in
  CreateDistribution(WithTags), UpdateDistribution, GetDistribution,
  GetDistributionConfig and ListDistributions; moto 5.2.5 drops both.

- CloudWatch in Smithy RPC v2 CBOR, the protocol of the AWS SDK for Rust's CloudWatch
  client: moto 5.2.5 serves CloudWatch in awsQuery and awsJson1_0 only. The CBOR request
  is bridged to moto's awsJson1_0 handler and its answer encoded back to CBOR.

Operations moto lacks, served here with AWS's semantics (each one also tested with
aws-smithy-mocks in the crate that calls it):
- ElastiCache DeleteCacheSubnetGroup (refused while a replication group uses the group)
  and ModifyCacheSubnetGroup (description and subnets).
- X-Ray sampling rules, groups and their tags (strata-observability's SamplingRule and
  XrayGroup): CreateSamplingRule, GetSamplingRules, UpdateSamplingRule,
  DeleteSamplingRule, CreateGroup, GetGroup, GetGroups, UpdateGroup, DeleteGroup,
  TagResource, UntagResource and ListTagsForResource, in memory per account and region,
  with AWS's REST-JSON shapes and errors (InvalidRequestException "Sampling rule does not
  exist" / "Group not found", ResourceNotFoundException for tags of a missing resource,
  RuleLimitExceededException past 25 rules) and AWS's undeletable Default rule and group.
"""

import sys

from moto.s3 import responses as s3_responses

_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _get_bucket_versioning(self):
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<VersioningConfiguration xmlns="{_XMLNS}">{inner}</VersioningConfiguration>'
    )
    return 200, {"Content-Type": "application/xml"}, body


s3_responses.S3Response.get_bucket_versioning = _get_bucket_versioning

from moto.core.responses import ActionResult, EmptyResult  # noqa: E402
from moto.elasticache import responses as ec_responses  # noqa: E402
from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException  # noqa: E402


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"

    def __init__(self, name):
        super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster.")


def _subnet_group_in_use(backend, name):
    for rg in getattr(backend, "replication_groups", {}).values():
        if getattr(rg, "cache_subnet_group_name", None) == name:
            return True
    for cc in getattr(backend, "cache_clusters", {}).values():
        if getattr(cc, "cache_subnet_group_name", None) == name:
            return True
    return False


def _delete_cache_subnet_group(self):
    name = self._get_param("CacheSubnetGroupName")
    backend = self.elasticache_backend
    if name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)
    if _subnet_group_in_use(backend, name):
        raise CacheSubnetGroupInUse(name)
    del backend.cache_subnet_groups[name]
    return EmptyResult()


def _modify_cache_subnet_group(self):
    name = self._get_param("CacheSubnetGroupName")
    backend = self.elasticache_backend
    if name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)
    old = backend.cache_subnet_groups.pop(name)
    group = backend.create_cache_subnet_group(
        cache_subnet_group_name=name,
        cache_subnet_group_description=self._get_param("CacheSubnetGroupDescription")
        or old.cache_subnet_group_description,
        subnet_ids=self._get_param("SubnetIds", []) or old.subnet_ids,
        tags=old.tags,
    )
    return ActionResult({"CacheSubnetGroup": group})


ec_responses.ElastiCacheResponse.delete_cache_subnet_group = _delete_cache_subnet_group
ec_responses.ElastiCacheResponse.modify_cache_subnet_group = _modify_cache_subnet_group



from moto.elasticache import models as ec_models  # noqa: E402

_set_members_disabled = ec_models.ReplicationGroup._set_node_members_clusters_disabled


def _set_members_disabled_fixed(self, **kw):
    if not kw.get("replicas_per_node_group") and kw.get("num_cache_clusters"):
        kw["replicas_per_node_group"] = kw["num_cache_clusters"] - 1
    return _set_members_disabled(self, **kw)


ec_models.ReplicationGroup._set_node_members_clusters_disabled = _set_members_disabled_fixed


_delete_replication_group = ec_models.ElastiCacheBackend.delete_replication_group


def _delete_replication_group_fixed(self, replication_group_id, retain_primary_cluster):
    group = _delete_replication_group(self, replication_group_id, retain_primary_cluster)
    self.replication_groups.pop(replication_group_id, None)
    return group


ec_models.ElastiCacheBackend.delete_replication_group = _delete_replication_group_fixed


from moto.core.types import Base64EncodedString  # noqa: E402
from moto.ec2.models import launch_templates as lt_models  # noqa: E402


def _lt_user_data(self):
    user_data = self.data.get("UserData")
    if isinstance(user_data, str):
        user_data = Base64EncodedString(user_data)
    return user_data


lt_models.LaunchTemplateVersion.user_data = property(_lt_user_data)


# CloudFront origins: moto's Origin reads the S3OriginConfig's identity into an attribute
# its serialiser never looks at, and ignores OriginAccessControlId. Keeping both under the
# model's names lets moto's serialiser emit them, in the model's (AWS's) element order, in
# every answer that carries a DistributionConfig.

from moto.cloudfront import models as cf_models  # noqa: E402

_cf_origin_init = cf_models.Origin.__init__


def _cf_origin_init_fixed(self, origin):
    s3 = origin.get("S3OriginConfig")
    if "S3OriginConfig" in origin and not isinstance(s3, dict):
        s3 = origin["S3OriginConfig"] = {}  # an empty <S3OriginConfig/>
    if s3 is not None:
        s3["OriginAccessIdentity"] = s3.get("OriginAccessIdentity") or ""
    _cf_origin_init(self, origin)
    if s3 is not None:
        self.s3_origin_config = {"OriginAccessIdentity": s3["OriginAccessIdentity"]}
        if s3.get("OriginReadTimeout") is not None:
            self.s3_origin_config["OriginReadTimeout"] = s3["OriginReadTimeout"]
    if origin.get("OriginAccessControlId") is not None:
        self.origin_access_control_id = origin["OriginAccessControlId"]


cf_models.Origin.__init__ = _cf_origin_init_fixed


# --- X-Ray sampling rules and groups (strata-observability) -------------------------------
#
# moto 5.2.5 serves only X-Ray's trace APIs. The sampling rule, group and tagging APIs are
# served here, REST-JSON as AWS: the SDK POSTs a JSON body to /CreateSamplingRule,
# /GetSamplingRules, /UpdateSamplingRule, /DeleteSamplingRule, /CreateGroup, /GetGroup,
# /Groups (GetGroups), /UpdateGroup, /DeleteGroup, /TagResource, /UntagResource and
# /ListTagsForResource. The paths are added to moto's xray url_paths (which moto_server
# turns into the routes of its xray app when the first X-Ray request arrives) and
# dispatched by XRayResponse, which maps the path to a method (CreateSamplingRule ->
# create_sampling_rule, Groups -> groups). State lives on the account's and region's
# xray backend, so moto's reset clears it.

import json as _json  # noqa: E402
import time as _time  # noqa: E402

from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.core.utils import camelcase_to_underscores  # noqa: E402
from moto.moto_api._internal import mock_random as _random  # noqa: E402
from moto.utilities.utils import get_partition as _partition  # noqa: E402
from moto.xray import urls as xray_urls  # noqa: E402
from moto.xray.responses import XRayResponse  # noqa: E402

_XRAY_RULE_LIMIT = 25  # sampling rules per region, besides Default
_XRAY_GROUP_LIMIT = 25  # groups per region, besides Default
_XRAY_TAG_LIMIT = 50
_XRAY_RULE_FIELDS = (
    "ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType",
    "Host", "HTTPMethod", "URLPath", "Version",
)


class XRayInvalidRequest(JsonRESTError):
    def __init__(self, message):
        super().__init__("InvalidRequestException", message)


class XRayRuleLimitExceeded(JsonRESTError):
    def __init__(self):
        super().__init__(
            "RuleLimitExceededException",
            f"You have reached the maximum number of sampling rules ({_XRAY_RULE_LIMIT}).",
        )


class XRayResourceNotFound(JsonRESTError):
    code = 404

    def __init__(self, arn):
        super().__init__("ResourceNotFoundException", f"Resource {arn} not found.")


class XRayTooManyTags(JsonRESTError):
    def __init__(self, arn):
        super().__init__(
            "TooManyTagsException",
            f"A resource can have at most {_XRAY_TAG_LIMIT} tags: {arn}",
        )


def _xray_state(resp):
    backend = resp.xray_backend
    state = getattr(backend, "_strata_xray", None)
    if state is None:
        now = _time.time()
        prefix = f"arn:{_partition(resp.region)}:xray:{resp.region}:{resp.current_account}"
        state = {
            "prefix": prefix,
            # AWS's Default rule: present in every region, updatable, not deletable.
            "rules": {
                "Default": {
                    "rule": {
                        "RuleName": "Default",
                        "RuleARN": f"{prefix}:sampling-rule/Default",
                        "ResourceARN": "*",
                        "Priority": 10000,
                        "FixedRate": 0.05,
                        "ReservoirSize": 1,
                        "ServiceName": "*",
                        "ServiceType": "*",
                        "Host": "*",
                        "HTTPMethod": "*",
                        "URLPath": "*",
                        "Version": 1,
                        "Attributes": {},
                    },
                    "CreatedAt": 0.0,
                    "ModifiedAt": now,
                }
            },
            "groups": {
                "Default": {
                    "GroupName": "Default",
                    "GroupARN": f"{prefix}:group/Default",
                    "InsightsConfiguration": {
                        "InsightsEnabled": False,
                        "NotificationsEnabled": False,
                    },
                }
            },
            "tags": {},
        }
        backend._strata_xray = state
    return state


def _xray_record(entry):
    return {
        "SamplingRule": dict(entry["rule"]),
        "CreatedAt": entry["CreatedAt"],
        "ModifiedAt": entry["ModifiedAt"],
    }


def _xray_find_rule(state, name, arn):
    if not name and arn:
        name = arn.rsplit("/", 1)[-1]
    entry = state["rules"].get(name or "")
    if entry is None or (arn and entry["rule"]["RuleARN"] != arn):
        raise XRayInvalidRequest("Sampling rule does not exist")
    return entry


def _xray_check_rule(rule):
    priority = rule.get("Priority")
    if priority is not None and not 1 <= int(priority) <= 9999 and rule.get("RuleName") != "Default":
        raise XRayInvalidRequest("Priority must be between 1 and 9999")
    rate = rule.get("FixedRate")
    if rate is not None and not 0 <= float(rate) <= 1:
        raise XRayInvalidRequest("FixedRate must be between 0 and 1")
    size = rule.get("ReservoirSize")
    if size is not None and int(size) < 0:
        raise XRayInvalidRequest("ReservoirSize must be at least 0")


def _xray_set_tags(state, arn, tags):
    current = state["tags"].setdefault(arn, {})
    for tag in tags or []:
        current[tag["Key"]] = tag["Value"]
    if len(current) > _XRAY_TAG_LIMIT:
        raise XRayTooManyTags(arn)


def _xray_exists(state, arn):
    return any(e["rule"]["RuleARN"] == arn for e in state["rules"].values()) or any(
        g["GroupARN"] == arn for g in state["groups"].values()
    )


def _xray_create_sampling_rule(self):
    state = _xray_state(self)
    rule = dict(self._get_param("SamplingRule") or {})
    name = rule.get("RuleName")
    if not name:
        raise XRayInvalidRequest("RuleName is required")
    missing = [f for f in _XRAY_RULE_FIELDS if rule.get(f) is None]
    if missing:
        raise XRayInvalidRequest(f"Missing required fields: {', '.join(missing)}")
    if rule["Version"] != 1:
        raise XRayInvalidRequest("Version must be 1")
    _xray_check_rule(rule)
    if name in state["rules"]:
        raise XRayInvalidRequest("Sampling rule already exists")
    if len(state["rules"]) - 1 >= _XRAY_RULE_LIMIT:
        raise XRayRuleLimitExceeded()
    rule["RuleARN"] = f"{state['prefix']}:sampling-rule/{name}"
    rule.setdefault("Attributes", {})
    now = _time.time()
    entry = {"rule": rule, "CreatedAt": now, "ModifiedAt": now}
    state["rules"][name] = entry
    _xray_set_tags(state, rule["RuleARN"], self._get_param("Tags"))
    return _json.dumps({"SamplingRuleRecord": _xray_record(entry)})


def _xray_get_sampling_rules(self):
    state = _xray_state(self)
    records = [_xray_record(e) for n, e in sorted(state["rules"].items()) if n != "Default"]
    records.append(_xray_record(state["rules"]["Default"]))
    return _json.dumps({"SamplingRuleRecords": records})


def _xray_update_sampling_rule(self):
    state = _xray_state(self)
    update = self._get_param("SamplingRuleUpdate") or {}
    entry = _xray_find_rule(state, update.get("RuleName"), update.get("RuleARN"))
    _xray_check_rule({**update, "RuleName": entry["rule"]["RuleName"]})
    for field, value in update.items():
        if field not in ("RuleName", "RuleARN") and value is not None:
            entry["rule"][field] = value
    entry["ModifiedAt"] = _time.time()
    return _json.dumps({"SamplingRuleRecord": _xray_record(entry)})


def _xray_delete_sampling_rule(self):
    state = _xray_state(self)
    entry = _xray_find_rule(state, self._get_param("RuleName"), self._get_param("RuleARN"))
    if entry["rule"]["RuleName"] == "Default":
        raise XRayInvalidRequest("Cannot delete the default sampling rule")
    del state["rules"][entry["rule"]["RuleName"]]
    state["tags"].pop(entry["rule"]["RuleARN"], None)
    return _json.dumps({"SamplingRuleRecord": _xray_record(entry)})


def _xray_insights(config, current=None):
    merged = dict(current or {"InsightsEnabled": False, "NotificationsEnabled": False})
    for k in ("InsightsEnabled", "NotificationsEnabled"):
        if (config or {}).get(k) is not None:
            merged[k] = bool(config[k])
    if merged["NotificationsEnabled"] and not merged["InsightsEnabled"]:
        raise XRayInvalidRequest(
            "Notifications can only be enabled on a group with InsightsEnabled set to true"
        )
    return merged


def _xray_find_group(state, name, arn):
    for group in state["groups"].values():
        if (arn and group["GroupARN"] == arn) or (not arn and name and group["GroupName"] == name):
            return group
    raise XRayInvalidRequest("Group not found")


def _xray_create_group(self):
    state = _xray_state(self)
    name = self._get_param("GroupName")
    if not name or len(name) > 32:
        raise XRayInvalidRequest("GroupName must have 1 to 32 characters")
    if name in state["groups"]:
        raise XRayInvalidRequest("Group already exists")
    if len(state["groups"]) - 1 >= _XRAY_GROUP_LIMIT:
        raise XRayInvalidRequest(f"You have reached the maximum number of groups ({_XRAY_GROUP_LIMIT}).")
    suffix = "".join(_random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32))
    group = {
        "GroupName": name,
        "GroupARN": f"{state['prefix']}:group/{name}/{suffix}",
        "InsightsConfiguration": _xray_insights(self._get_param("InsightsConfiguration")),
    }
    expression = self._get_param("FilterExpression")
    if expression:
        group["FilterExpression"] = expression
    state["groups"][name] = group
    _xray_set_tags(state, group["GroupARN"], self._get_param("Tags"))
    return _json.dumps({"Group": group})


def _xray_get_group(self):
    state = _xray_state(self)
    group = _xray_find_group(state, self._get_param("GroupName"), self._get_param("GroupARN"))
    return _json.dumps({"Group": group})


def _xray_groups(self):
    state = _xray_state(self)
    return _json.dumps({"Groups": [state["groups"][n] for n in sorted(state["groups"])]})


def _xray_update_group(self):
    state = _xray_state(self)
    group = _xray_find_group(state, self._get_param("GroupName"), self._get_param("GroupARN"))
    expression = self._get_param("FilterExpression")
    if expression is not None:
        group["FilterExpression"] = expression
    group["InsightsConfiguration"] = _xray_insights(
        self._get_param("InsightsConfiguration"), group["InsightsConfiguration"]
    )
    return _json.dumps({"Group": group})


def _xray_delete_group(self):
    state = _xray_state(self)
    group = _xray_find_group(state, self._get_param("GroupName"), self._get_param("GroupARN"))
    if group["GroupName"] == "Default":
        raise XRayInvalidRequest("Cannot delete the Default group")
    del state["groups"][group["GroupName"]]
    state["tags"].pop(group["GroupARN"], None)
    return "{}"


def _xray_tag_resource(self):
    state = _xray_state(self)
    arn = self._get_param("ResourceARN")
    if not _xray_exists(state, arn):
        raise XRayResourceNotFound(arn)
    for tag in self._get_param("Tags") or []:
        if tag["Key"].startswith("aws:"):
            raise XRayInvalidRequest("Tag keys starting with aws: are reserved")
    _xray_set_tags(state, arn, self._get_param("Tags"))
    return "{}"


def _xray_untag_resource(self):
    state = _xray_state(self)
    arn = self._get_param("ResourceARN")
    if not _xray_exists(state, arn):
        raise XRayResourceNotFound(arn)
    current = state["tags"].setdefault(arn, {})
    for key in self._get_param("TagKeys") or []:
        current.pop(key, None)
    return "{}"


def _xray_list_tags_for_resource(self):
    state = _xray_state(self)
    arn = self._get_param("ResourceARN")
    if not _xray_exists(state, arn):
        raise XRayResourceNotFound(arn)
    tags = state["tags"].get(arn, {})
    return _json.dumps({"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})


for _path, _method in {
    "CreateSamplingRule": _xray_create_sampling_rule,
    "GetSamplingRules": _xray_get_sampling_rules,
    "UpdateSamplingRule": _xray_update_sampling_rule,
    "DeleteSamplingRule": _xray_delete_sampling_rule,
    "CreateGroup": _xray_create_group,
    "GetGroup": _xray_get_group,
    "Groups": _xray_groups,
    "UpdateGroup": _xray_update_group,
    "DeleteGroup": _xray_delete_group,
    "TagResource": _xray_tag_resource,
    "UntagResource": _xray_untag_resource,
    "ListTagsForResource": _xray_list_tags_for_resource,
}.items():
    setattr(XRayResponse, camelcase_to_underscores(_path), _method)
    xray_urls.url_paths["{0}/" + _path + "$"] = XRayResponse.dispatch


# --- CloudWatch over Smithy RPC v2 CBOR (strata-observability) ----------------------------
#
# The AWS SDK for Rust speaks CloudWatch in Smithy RPC v2 CBOR (aws-sdk-cloudwatch >= 1.9x):
# POST /service/GraniteServiceVersion20100801/operation/<Operation>, a CBOR body, header
# `smithy-protocol: rpc-v2-cbor`. moto 5.2.5 serves CloudWatch in awsQuery and awsJson1_0
# only, so it answered those requests with query XML the SDK cannot read. This bridge,
# in front of moto's WSGI app, decodes the CBOR request (botocore's CBOR parser), hands moto
# the same request in awsJson1_0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`),
# and encodes moto's JSON answer back to CBOR along the operation's output shape
# (botocore's CBOR serializer, so doubles stay doubles and timestamps get tag 1); errors
# become a CBOR `{__type, message}` with moto's status.

import io as _io  # noqa: E402
import re as _re  # noqa: E402

from botocore.parsers import RpcV2CBORParser as _CborParser  # noqa: E402
from botocore.serialize import RpcV2CBORSerializer as _CborSerializer  # noqa: E402
from botocore.session import get_session as _botocore_session  # noqa: E402
from moto.moto_server import werkzeug_app as _werkzeug_app  # noqa: E402

_CBOR_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}
_CBOR_PATH = _re.compile(r"^/service/([A-Za-z0-9_.]+)/operation/([A-Za-z0-9_]+)$")
_cbor_models = {}


def _cbor_model(service):
    if service not in _cbor_models:
        _cbor_models[service] = _botocore_session().get_service_model(service)
    return _cbor_models[service]


def _cbor_decode(body):
    if not body:
        return {}
    parser = _CborParser(timestamp_parser=lambda v: v)  # keep epoch seconds, as JSON has them
    return parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))


def _cbor_encode(value, shape):
    out = bytearray()
    serializer = _CborSerializer()
    if shape is None:
        out.extend(b"\xa0")  # {}
    else:
        serializer._serialize_data_item(out, value, shape)
    return bytes(out)


def _cbor_error(code, message):
    out = bytearray(b"\xa2")  # a map of two entries
    serializer = _CborSerializer()
    for item in ("__type", code, "message", message):
        serializer._serialize_type_string(out, item, None, None)
    return bytes(out)


_dispatch = _werkzeug_app.DomainDispatcherApplication.__call__


def _dispatch_cbor(self, environ, start_response):
    match = _CBOR_PATH.match(environ.get("PATH_INFO", ""))
    if environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor" or not match:
        return _dispatch(self, environ, start_response)
    target, operation = match.groups()
    service = _CBOR_SERVICES.get(target)
    if service is None:
        return _dispatch(self, environ, start_response)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    params = _cbor_decode(environ["wsgi.input"].read(length) if length else b"")
    body = _json.dumps(params).encode()
    inner = dict(environ)
    inner.update(
        {
            "PATH_INFO": "/",
            "CONTENT_TYPE": "application/x-amz-json-1.0",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_AMZ_TARGET": f"{target}.{operation}",
            "wsgi.input": _io.BytesIO(body),
        }
    )
    inner.pop("HTTP_SMITHY_PROTOCOL", None)
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = _dispatch(self, inner, capture)
    try:
        answer = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    status = captured.get("status", "500 INTERNAL SERVER ERROR")
    parsed = _json.loads(answer) if answer.strip() else {}
    if int(status.split()[0]) >= 300:
        code = str(parsed.get("__type", "InternalFailure")).split("#")[-1]
        message = parsed.get("message") or parsed.get("Message") or ""
        payload = _cbor_error(code, message)
    else:
        output = _cbor_model(service).operation_model(operation).output_shape
        payload = _cbor_encode(parsed, output)
    start_response(
        status,
        [
            ("Content-Type", "application/cbor"),
            ("Content-Length", str(len(payload))),
            ("smithy-protocol", "rpc-v2-cbor"),
        ],
    )
    return [payload]


_werkzeug_app.DomainDispatcherApplication.__call__ = _dispatch_cbor


if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
