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

- S3 CreateBucket with `Tags` in its CreateBucketConfiguration: AWS tags the bucket as it
  creates it; moto 5.2.5 ignores the tags.

- RDS CreateDBSubnetGroup of a name that exists: AWS refuses (DBSubnetGroupAlreadyExists);
  moto 5.2.5 silently replaces the group, tags and all.

- RDS ModifyDBSubnetGroup: AWS replaces the group's subnets and keeps the group, its
  description (unless a new one is given) and its tags; moto 5.2.5 drops the group from
  its backend (it pops it and never puts it back), so after a subnet change the group is
  gone while instances still use it.

- RDS ModifyDBInstance with an EngineVersion: AWS refuses a downgrade ("Cannot upgrade
  postgres from 14.12 to 14.10") and a new major version without
  AllowMajorVersionUpgrade (InvalidParameterCombination); moto 5.2.5 sets any version.

- RDS CreateDBInstanceReadReplica: AWS makes the replica with automated backups off
  (BackupRetentionPeriod 0); moto 5.2.5 copies the source's retention.

- EC2 DescribeNatGateways with `tag:<key>`, `tag-key` or `tag-value` filters: AWS
  answers the gateways whose tags match; moto 5.2.5 ignores those filters and answers
  every gateway of the region (so a search by a create's token tag found another's).

- EC2 CreateNatGateway with a ClientToken: AWS makes the gateway once and answers a
  repeat with the same token and parameters with that same gateway (different
  parameters: IdempotentParameterMismatch); moto 5.2.5 ignores the token, so a retried
  create tried to take the Elastic IP its first attempt holds (Resource.AlreadyAssociated).

- EC2 DeleteNatGateway: AWS disassociates the gateway's Elastic IP (it is not released)
  and answers NatGatewayNotFound for an unknown id; moto 5.2.5 keeps the address
  associated to the deleted gateway, and fails with HTTP 500 on an unknown id.

- EC2 CreateNatGateway (public) in a VPC without an attached internet gateway: AWS makes
  the gateway and it goes `failed` (Gateway.NotAttached, "Network vpc-... has no Internet
  gateway attached"); moto 5.2.5 makes it `available`.

- EC2 AssociateRouteTable for a subnet that is associated already (with any table): AWS
  refuses (Resource.AlreadyAssociated, "the specified association for route table ...
  conflicts with an existing association"); moto 5.2.5 answers the existing association,
  even when it is with another table, as if it had made it.

- Auto Scaling CreateAutoScalingGroup of a name that exists: AWS refuses
  (AlreadyExists); moto 5.2.5 silently replaces the group.

- Auto Scaling policies: AWS scopes a policy's name to its group (PutScalingPolicy on
  another group makes another policy; DeletePolicy and ExecutePolicy take the group and
  the name, or the policy's ARN) and deletes a group's policies with the group; moto
  5.2.5 files policies under their name alone (a put on one group replaced another
  group's policy of that name, a delete removed it) and keeps them after their group.

- Route 53 ChangeResourceRecordSets: AWS validates the whole batch, in order, before
  applying any of it: a CREATE of a record set that exists (same name, compared
  case-insensitively and with or without the final dot, type and set identifier) is
  refused (InvalidChangeBatch "Tried to create resource record set [...] but it already
  exists"), and so is a DELETE of one that does not exist ("... but it was not found") or
  whose TTL and values are not the current ones ("... but the values provided do not
  match the current values"); earlier changes of the batch count (DELETE then CREATE is
  valid) and a refused batch changes nothing. moto 5.2.5 added a second record set on such
  a CREATE, applied a batch up to its failing change, and deleted by name and type alone
  (or by set identifier alone, across names).

- ELBv2 CreateLoadBalancer and CreateTargetGroup of a name in use: AWS answers the existing
  one when the settings are the same (idempotent) and otherwise refuses
  (DuplicateLoadBalancerName / DuplicateTargetGroupName, "... with the same name '<name>'
  exists, but with different settings"); moto 5.2.5 made a second load balancer of the
  same name, and refused a target group of a name in use even with the same settings.

- ELBv2 ModifyLoadBalancerAttributes switching access logs on: AWS checks that the bucket
  exists and that its policy lets the region's log writer (the regional Elastic Load
  Balancing account in regions older than August 2022, else the log delivery service)
  put objects under `PREFIX/AWSLogs/ACCOUNT/`, and otherwise refuses
  (InvalidConfigurationRequest "Access Denied for bucket"); moto 5.2.5 accepts any bucket.
  The check reads the bucket and its policy from moto's S3 backend.

- WAFv2 errors for a name in use: AWS's code is WAFDuplicateItemException; moto 5.2.5
  answers WafV2DuplicateItem.

- WAFv2 AssociateWebACL of a resource that has a web ACL: AWS replaces the association (a
  resource has at most one web ACL); moto 5.2.5 kept the resource in its old web ACL too.

- CloudFront CreateOriginAccessControl (and UpdateOriginAccessControl) with a name another
  origin access control has: AWS refuses (409 OriginAccessControlAlreadyExists); moto
  5.2.5 made (or renamed to) a second one of that name.

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


# --- S3 and RDS (strata-data) ----------------------------------------------------------
#
# CreateBucket with tags: AWS applies the `Tags` of a CreateBucketConfiguration to the
# bucket it creates (so a bucket is never untagged, even for an instant); moto 5.2.5 reads
# only the LocationConstraint. The tags are put on the new bucket through moto's own
# PutBucketTagging (the backend's), after moto created it; a bucket that existed before
# the call keeps its tags.
#
# RDS DB subnet groups: moto 5.2.5's CreateDBSubnetGroup replaces a group of the same name
# (AWS refuses: DBSubnetGroupAlreadyExists), and its ModifyDBSubnetGroup pops the group
# from the backend and never puts it back (after a subnet change, describe answers
# DBSubnetGroupNotFoundFault while instances still use it). AWS's ModifyDBSubnetGroup
# replaces the subnet list (SubnetIds is required) and keeps the group, its description
# (unless a new one is given), its ARN and its tags.

import xmltodict as _xmltodict  # noqa: E402

from moto.rds import models as _rds_models  # noqa: E402
from moto.rds.exceptions import DBSubnetGroupNotFoundError as _DBSubnetGroupNotFound  # noqa: E402
from moto.rds.exceptions import RDSClientError as _RDSClientError  # noqa: E402

_s3_bucket_response_put = s3_responses.S3Response._bucket_response_put


def _s3_create_bucket_tags(body):
    """The tags of a CreateBucketConfiguration body, as a dict (empty without any)."""
    if not body:
        return {}
    try:
        conf = _xmltodict.parse(body).get("CreateBucketConfiguration")
    except Exception:  # not XML: moto's handler answers for it
        return {}
    if not isinstance(conf, dict) or not isinstance(conf.get("Tags"), dict):
        return {}
    tags = conf["Tags"].get("Tag") or []
    if isinstance(tags, dict):  # a single <Tag>
        tags = [tags]
    return {t["Key"]: t.get("Value") or "" for t in tags if isinstance(t, dict) and "Key" in t}


def _s3_bucket_response_put_fixed(self, request, bucket_name, querystring):
    creating = not querystring and bucket_name not in self.backend.buckets
    result = _s3_bucket_response_put(self, request, bucket_name, querystring)
    if creating and bucket_name in self.backend.buckets:
        tags = _s3_create_bucket_tags(self.body)
        if tags:
            self.backend.put_bucket_tagging(bucket_name, tags)
    return result


s3_responses.S3Response._bucket_response_put = _s3_bucket_response_put_fixed


_rds_create_subnet_group = _rds_models.RDSBackend.create_subnet_group


def _rds_create_subnet_group_fixed(self, subnet_name, description, subnets, tags):
    if subnet_name in self.subnet_groups:
        raise _RDSClientError(
            "DBSubnetGroupAlreadyExists",
            f"The DB subnet group '{subnet_name}' already exists.",
        )
    return _rds_create_subnet_group(self, subnet_name, description, subnets, tags)


def _rds_modify_db_subnet_group_fixed(self, subnet_name, description, subnets):
    group = self.subnet_groups.get(subnet_name)
    if group is None:
        raise _DBSubnetGroupNotFound(subnet_name)
    if not subnets:
        raise _RDSClientError(
            "InvalidParameterValue", "The parameter SubnetIds must be provided."
        )
    group.subnets = subnets
    group.vpc_id = subnets[0].vpc_id
    if description is not None:
        group.description = description
    return group


_rds_models.RDSBackend.create_subnet_group = _rds_create_subnet_group_fixed
_rds_models.RDSBackend.modify_db_subnet_group = _rds_modify_db_subnet_group_fixed


# RDS ModifyDBInstance with an EngineVersion: AWS never downgrades an instance ("Cannot
# upgrade postgres from 14.12 to 14.10", InvalidParameterCombination: the error every
# later apply meets once auto minor upgrade moved the instance past a pinned minor), and
# moves it to another major version only with AllowMajorVersionUpgrade; moto 5.2.5 sets
# whatever version it is given.


def _rds_version_parts(v):
    try:
        return [int(p) for p in str(v).split(".")]
    except ValueError:
        return None


def _rds_major(engine, parts):
    return parts[:1] if engine == "postgres" and parts[0] >= 10 else parts[:2]


_rds_modify_db_instance = _rds_models.RDSBackend.modify_db_instance


def _rds_modify_db_instance_fixed(self, db_instance_identifier, db_kwargs):
    target = db_kwargs.get("EngineVersion")
    if target:
        database = self.describe_db_instances(db_instance_identifier)[0]
        cur, new = _rds_version_parts(database.engine_version), _rds_version_parts(target)
        if cur and new and new != cur:
            if new < cur:
                raise _RDSClientError(
                    "InvalidParameterCombination",
                    f"Cannot upgrade {database.engine} from {database.engine_version} to {target}",
                )
            major_change = _rds_major(database.engine, cur) != _rds_major(database.engine, new)
            allowed = str(db_kwargs.get("AllowMajorVersionUpgrade", "")).lower() == "true"
            if major_change and not allowed:
                raise _RDSClientError(
                    "InvalidParameterCombination",
                    "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.",
                )
    return _rds_modify_db_instance(self, db_instance_identifier, db_kwargs)


_rds_models.RDSBackend.modify_db_instance = _rds_modify_db_instance_fixed


# RDS CreateDBInstanceReadReplica: AWS creates a replica with automated backups off
# (BackupRetentionPeriod 0; they can be turned on by modifying the replica afterwards);
# moto 5.2.5 copies the source instance, backup retention included.
_rds_create_read_replica = _rds_models.RDSBackend.create_db_instance_read_replica


def _rds_create_read_replica_fixed(self, db_kwargs):
    replica = _rds_create_read_replica(self, db_kwargs)
    replica.backup_retention_period = 0
    return replica


_rds_models.RDSBackend.create_db_instance_read_replica = _rds_create_read_replica_fixed


# --- EC2 NAT gateways, route table associations; Auto Scaling groups and policies -------
# (strata-network and strata-compute: the refusals and the idempotency their ownership
# checks rely on.)

import threading as _threading  # noqa: E402

from moto.autoscaling import models as _as_models  # noqa: E402
from moto.autoscaling import responses as _as_responses  # noqa: E402
from moto.autoscaling.exceptions import AutoscalingClientError  # noqa: E402
from moto.ec2.exceptions import EC2ClientError  # noqa: E402
from moto.ec2.models import nat_gateways as _nat_models  # noqa: E402
from moto.ec2.responses import nat_gateways as _nat_responses  # noqa: E402
from moto.ec2.responses import route_tables as _rt_responses  # noqa: E402
from moto.ec2.utils import tag_filter_matches as _tag_filter_matches  # noqa: E402

_nat_lock = _threading.Lock()
_nat_describe = _nat_models.NatGatewayBackend.describe_nat_gateways


def _nat_describe_tag_filters(self, filters, nat_gateway_ids):
    gateways = _nat_describe(self, filters, nat_gateway_ids)
    for name, values in (filters or {}).items():
        if name.startswith("tag:") or name in ("tag-key", "tag-value"):
            gateways = [g for g in gateways if _tag_filter_matches(g, name, values)]
    return gateways


_nat_models.NatGatewayBackend.describe_nat_gateways = _nat_describe_tag_filters

_nat_create = _nat_responses.NatGateways.create_nat_gateway


def _nat_create_idempotent(self):
    token = self._get_param("ClientToken")
    if not token:
        return _nat_create(self)
    request = (
        self._get_param("SubnetId"),
        self._get_param("AllocationId"),
        self._get_param("ConnectivityType") or "public",
    )
    backend = self.ec2_backend
    with _nat_lock:
        made = backend.__dict__.setdefault("_strata_nat_tokens", {})
        if token in made:
            asked, gateway_id = made[token]
            if asked != request:
                raise EC2ClientError(
                    "IdempotentParameterMismatch",
                    f"The client token {token} was used with different parameters.",
                )
            return ActionResult(
                {"NatGateway": backend.nat_gateways[gateway_id], "ClientToken": token}
            )
        before = set(backend.nat_gateways)
        result = _nat_create(self)
        for gateway_id in set(backend.nat_gateways) - before:
            made[token] = (request, gateway_id)
        return result


_nat_responses.NatGateways.create_nat_gateway = _nat_create_idempotent

_nat_delete = _nat_models.NatGatewayBackend.delete_nat_gateway


def _nat_delete_disassociating(self, nat_gateway_id):
    if nat_gateway_id not in self.nat_gateways:
        raise EC2ClientError(
            "NatGatewayNotFound", f"The Nat Gateway {nat_gateway_id} was not found"
        )
    gateway = _nat_delete(self, nat_gateway_id)
    for address in list(getattr(self, "addresses", [])):
        if address.eni is not None and address.eni is getattr(gateway, "_eni", None):
            self.disassociate_address(address=address.public_ip)
    return gateway


_nat_models.NatGatewayBackend.delete_nat_gateway = _nat_delete_disassociating


def _igw_attached(backend, vpc_id):
    return any(
        igw.vpc is not None and igw.vpc.id == vpc_id
        for igw in backend.internet_gateways.values()
    )


_nat_create_model = _nat_models.NatGatewayBackend.create_nat_gateway


def _nat_create_needing_igw(self, subnet_id, allocation_id, *args, **kwargs):
    """AWS makes a public NAT gateway in a VPC without an attached internet gateway, and
    it goes `failed` (Gateway.NotAttached)."""
    gateway = _nat_create_model(self, subnet_id, allocation_id, *args, **kwargs)
    if gateway.connectivity_type == "public" and not _igw_attached(self, gateway.vpc_id):
        gateway.state = "failed"
        gateway.failure_code = "Gateway.NotAttached"
        gateway.failure_message = f"Network {gateway.vpc_id} has no Internet gateway attached"
    return gateway


_nat_models.NatGatewayBackend.create_nat_gateway = _nat_create_needing_igw


_rt_associate = _rt_responses.RouteTables.associate_route_table


def _rt_associate_once(self):
    route_table_id = self._get_param("RouteTableId")
    subnet_id = self._get_param("SubnetId")
    if subnet_id:
        for table in self.ec2_backend.route_tables.values():
            if subnet_id in table._associations.values():
                raise EC2ClientError(
                    "Resource.AlreadyAssociated",
                    f"the specified association for route table {route_table_id} "
                    "conflicts with an existing association",
                )
    return _rt_associate(self)


_rt_responses.RouteTables.associate_route_table = _rt_associate_once

_as_create_group = _as_responses.AutoScalingResponse.create_auto_scaling_group


def _as_create_group_once(self):
    name = self._get_param("AutoScalingGroupName")
    if name in self.autoscaling_backend.autoscaling_groups:
        raise AutoscalingClientError(
            "AlreadyExists",
            f"AutoScalingGroup by this name already exists - A group with the name {name} "
            "already exists",
        )
    return _as_create_group(self)


_as_responses.AutoScalingResponse.create_auto_scaling_group = _as_create_group_once

_as_put_policy = _as_models.AutoScalingBackend.put_scaling_policy


def _as_put_policy_per_group(self, *args, **kwargs):
    name = kwargs["name"] if "name" in kwargs else args[0]
    group = kwargs["as_name"] if "as_name" in kwargs else args[4]
    policy = _as_put_policy(self, *args, **kwargs)
    # moto files the policy under its name alone; AWS scopes the name to the group.
    if self.policies.get(name) is policy:
        del self.policies[name]
    self.policies[(group, name)] = policy
    return policy


_as_models.AutoScalingBackend.put_scaling_policy = _as_put_policy_per_group


def _as_policy_keys(backend, group, name):
    return [
        key
        for key, policy in backend.policies.items()
        if name in (policy.name, policy.arn)
        and (not group or policy.auto_scaling_group_name == group)
    ]


def _as_delete_policy(self):
    backend = self.autoscaling_backend
    keys = _as_policy_keys(
        backend, self._get_param("AutoScalingGroupName"), self._get_param("PolicyName")
    )
    for key in keys:
        del backend.policies[key]
    return EmptyResult()


def _as_execute_policy(self):
    backend = self.autoscaling_backend
    keys = _as_policy_keys(
        backend, self._get_param("AutoScalingGroupName"), self._get_param("PolicyName")
    )
    for key in keys:
        backend.policies[key].execute()
    return EmptyResult()


_as_responses.AutoScalingResponse.delete_policy = _as_delete_policy
_as_responses.AutoScalingResponse.execute_policy = _as_execute_policy

_as_delete_group = _as_models.AutoScalingBackend.delete_auto_scaling_group


def _as_delete_group_and_policies(self, group_name):
    _as_delete_group(self, group_name)
    for key, policy in list(self.policies.items()):
        if policy.auto_scaling_group_name == group_name:
            del self.policies[key]


_as_models.AutoScalingBackend.delete_auto_scaling_group = _as_delete_group_and_policies


# --- Route 53 record sets, ELBv2 names, WAFv2, CloudFront OACs (strata-edge) -------------
#
# Route 53 ChangeResourceRecordSets: AWS validates the whole batch before applying any of
# it, in order, against the zone as the earlier changes of the batch leave it (so DELETE
# then CREATE of the same record set is valid). A record set is identified by its name
# (case-insensitive, with or without the final dot, \ooo escapes decoded), type and set
# identifier. A CREATE of one that exists is refused (InvalidChangeBatch "Tried to create
# resource record set [...] but it already exists"); a DELETE must name one that exists
# ("... but it was not found") with all its current values ("... but the values provided
# do not match the current values"); any refusal leaves the zone untouched. moto 5.2.5
# added a second record set on such a CREATE, applied a batch up to its failing change,
# and deleted by name and type alone (or by set identifier alone, across names).
#
# ELBv2 CreateLoadBalancer / CreateTargetGroup of a name in use: AWS answers the existing
# one when the settings are the same (the calls are idempotent) and refuses with
# DuplicateLoadBalancerName / DuplicateTargetGroupName "... with the same name '<name>'
# exists, but with different settings" otherwise. moto 5.2.5 compared the new load
# balancer's ARN (with a fresh random id) to the existing ones, so it made a second load
# balancer of the same name; and it refused any target group of a name in use. The
# request's settings are worked out by moto's own create, run on a throwaway copy of the
# backend (so moto's defaults apply), and compared to the existing one's.
#
# WAFv2: AWS's error code for a name in use is WAFDuplicateItemException (moto 5.2.5:
# WafV2DuplicateItem). AWS's AssociateWebACL of a resource that has a web ACL replaces
# that association (a resource has at most one web ACL); moto 5.2.5 left the resource in
# its old web ACL's list too.
#
# CloudFront CreateOriginAccessControl (and UpdateOriginAccessControl) of a name another
# origin access control has: AWS refuses (409 OriginAccessControlAlreadyExists); moto
# 5.2.5 made a second one of that name.

import copy as _copy  # noqa: E402

from moto.cloudfront.exceptions import CloudFrontException as _CloudFrontException  # noqa: E402
from moto.elbv2 import models as _elbv2_models  # noqa: E402
from moto.elbv2.exceptions import (  # noqa: E402
    DuplicateLoadBalancerName as _DuplicateLoadBalancerName,
    DuplicateTargetGroupName as _DuplicateTargetGroupName,
)
from moto.route53 import models as _r53_models  # noqa: E402
from moto.route53.exceptions import (  # noqa: E402
    DnsNameInvalidForZone as _DnsNameInvalidForZone,
    InvalidActionValue as _InvalidActionValue,
    InvalidInput as _R53InvalidInput,
    ResourceRecordAlreadyExists as _RecordAlreadyExists,
    Route53ClientError as _Route53ClientError,
)
from moto.route53.utils import validate_domain_name as _validate_domain_name  # noqa: E402
from moto.wafv2 import exceptions as _wafv2_exceptions  # noqa: E402
from moto.wafv2 import models as _wafv2_models  # noqa: E402
from moto.wafv2.exceptions import WAFNonexistentItemException as _WAFNonexistent  # noqa: E402

_r53_lock = _threading.Lock()
_R53_ROUTING_FIELDS = (
    "Weight", "Region", "Failover", "GeoLocation", "HealthCheckId", "MultiValueAnswer",
)


def _r53_name(name):
    """A record name as Route 53 compares it: \\ooo escapes decoded, lower case, no final dot."""
    name = _re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), name or "")
    return name.lower().rstrip(".")


def _r53_key(rrset):
    return (_r53_name(rrset.get("Name")), rrset.get("Type"), rrset.get("SetIdentifier"))


def _r53_norm(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return tuple(sorted((k, _r53_norm(v)) for k, v in value.items()))
    if value is None:
        return None
    return str(value).lower() if str(value).lower() in ("true", "false") else str(value)


def _r53_values(rrset):
    """What a DELETE must repeat of a record set: TTL, values, alias target, routing."""
    records = rrset.get("ResourceRecords") or []
    values = sorted(str(r["Value"] if isinstance(r, dict) else r) for r in records)
    alias = rrset.get("AliasTarget")
    if alias:
        alias = (
            alias.get("HostedZoneId"),
            _r53_name(alias.get("DNSName")),
            _r53_norm(alias.get("EvaluateTargetHealth")),
        )
    routing = tuple(_r53_norm(rrset.get(f)) for f in _R53_ROUTING_FIELDS)
    return (_r53_norm(rrset.get("TTL")), values, alias, routing)


def _r53_stored(record):
    """A stored RecordSet as the request dict that made it."""
    return {
        "Name": record.name,
        "Type": record.type,
        "SetIdentifier": record.set_identifier,
        "TTL": record.ttl,
        "ResourceRecords": record.records,
        "AliasTarget": record.alias_target,
        "Weight": record.weight,
        "Region": record.region,
        "Failover": record.failover,
        "GeoLocation": record.geo_location,
        "HealthCheckId": record.health_check_id,
        "MultiValueAnswer": record.multi_value_answer,
    }


def _r53_refused(verb, rrset, outcome):
    name = rrset["Name"] if rrset["Name"].endswith(".") else rrset["Name"] + "."
    if verb == "create" and rrset.get("SetIdentifier") is None:
        return _RecordAlreadyExists(name=name, _type=rrset["Type"])
    label = f"name='{name}', type='{rrset['Type']}'"
    if rrset.get("SetIdentifier") is not None:
        label += f", set-identifier='{rrset['SetIdentifier']}'"
    return _Route53ClientError(
        "InvalidChangeBatch", f"Tried to {verb} resource record set [{label}] but {outcome}"
    )


def _r53_check_batch(zone, change_list):
    """Raises AWS's refusal of the batch, if any, without changing the zone."""
    zone_name = _r53_name(zone.name)
    for change in change_list:
        rrset = change["ResourceRecordSet"]
        _validate_domain_name(rrset["Name"], code="InvalidChangeBatch")
        if change["Action"] not in ("CREATE", "UPSERT", "DELETE"):
            raise _InvalidActionValue(change["Action"])
        name = _r53_name(rrset["Name"])
        if name != zone_name and not name.endswith("." + zone_name):
            raise _DnsNameInvalidForZone(name=rrset["Name"], zone_name=zone.name)
    current = {}
    for record in zone.rrsets:
        stored = _r53_stored(record)
        current[_r53_key(stored)] = stored
    for change in change_list:
        rrset = change["ResourceRecordSet"]
        key = _r53_key(rrset)
        if change["Action"] == "CREATE":
            if key in current:
                raise _r53_refused("create", rrset, "it already exists")
            current[key] = rrset
        elif change["Action"] == "UPSERT":
            current[key] = rrset
        else:
            if not rrset.get("AliasTarget") and not (
                rrset.get("TTL") is not None and rrset.get("ResourceRecords")
            ):
                raise _R53InvalidInput(
                    "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, "
                    "and ResourceRecords], or TrafficPolicyInstanceId], but found none in "
                    f"Change with [Action=DELETE, Name={rrset['Name']}, Type={rrset['Type']}, "
                    f"SetIdentifier={rrset.get('SetIdentifier', 'null')}]"
                )
            if key not in current:
                raise _r53_refused("delete", rrset, "it was not found")
            if _r53_values(current[key]) != _r53_values(rrset):
                raise _r53_refused(
                    "delete", rrset, "the values provided do not match the current values"
                )
            del current[key]


def _r53_change_resource_record_sets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    with _r53_lock:
        _r53_check_batch(zone, change_list)
        for change in change_list:
            original_change = _copy.deepcopy(change)
            rrset = change["ResourceRecordSet"]
            if not rrset["Name"].endswith("."):
                rrset["Name"] += "."
            key = _r53_key(rrset)
            same = [i for i, r in enumerate(zone.rrsets) if _r53_key(_r53_stored(r)) == key]
            if change["Action"] == "DELETE":
                del zone.rrsets[same[0]]
            else:
                if "ResourceRecords" in rrset:
                    rrset["ResourceRecords"] = [r["Value"] for r in rrset["ResourceRecords"]]
                if same:  # an UPSERT of an existing record set
                    zone.rrsets[same[0]] = _r53_models.RecordSet(rrset)
                else:
                    zone.add_rrset(rrset)
            zone.rr_changes.append(original_change)


_r53_models.Route53Backend.change_resource_record_sets = _r53_change_resource_record_sets


_elbv2_lock = _threading.Lock()
_elbv2_create_lb = _elbv2_models.ELBv2Backend.create_load_balancer
_elbv2_create_tg = _elbv2_models.ELBv2Backend.create_target_group
_ELBV2_TG_SETTINGS = (
    "vpc_id", "protocol", "protocol_version", "port", "target_type", "ip_address_type",
    "health_check_protocol", "health_check_port", "health_check_path",
    "health_check_interval_seconds", "health_check_timeout_seconds", "health_check_enabled",
    "healthy_threshold_count", "unhealthy_threshold_count", "matcher",
)


def _elbv2_lb_settings(lb):
    return (
        lb.scheme,
        lb.type,
        lb.ip_address_type,
        sorted(s.id for s in lb.subnets),
        sorted(lb.security_groups or []),
    )


def _elbv2_tg_settings(tg):
    return tuple(_r53_norm(getattr(tg, a, None)) for a in _ELBV2_TG_SETTINGS)


def _elbv2_trial(backend, table):
    """A throwaway copy of the backend, whose create adds to an empty `table`."""
    trial = _copy.copy(backend)
    setattr(trial, table, {})
    return trial


def _elbv2_create_lb_by_name(self, name, *args, **kwargs):
    with _elbv2_lock:
        existing = [lb for lb in self.load_balancers.values() if lb.name == name]
        if not existing:
            return _elbv2_create_lb(self, name, *args, **kwargs)
        asked = _elbv2_create_lb(
            _elbv2_trial(self, "load_balancers"), name, *args, **{**kwargs, "tags": None}
        )
        if _elbv2_lb_settings(asked) != _elbv2_lb_settings(existing[0]):
            raise _DuplicateLoadBalancerName(
                f"A load balancer with the same name '{name}' exists, but with different "
                "settings"
            )
        return existing[0]


def _elbv2_create_tg_by_name(self, name, **kwargs):
    with _elbv2_lock:
        existing = [tg for tg in self.target_groups.values() if tg.name == name]
        if not existing:
            return _elbv2_create_tg(self, name, **kwargs)
        asked = _elbv2_create_tg(
            _elbv2_trial(self, "target_groups"), name, **{**kwargs, "tags": None}
        )
        if _elbv2_tg_settings(asked) != _elbv2_tg_settings(existing[0]):
            raise _DuplicateTargetGroupName(
                f"A target group with the same name '{name}' exists, but with different "
                "settings"
            )
        return existing[0]


_elbv2_models.ELBv2Backend.create_load_balancer = _elbv2_create_lb_by_name
_elbv2_models.ELBv2Backend.create_target_group = _elbv2_create_tg_by_name

# The Elastic Load Balancing account that writes access logs in each region that predates
# the log delivery service principal (AWS's "Enable access logs for your Application Load
# Balancer"); regions opened since August 2022 grant the service.
_ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331", "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
}
_ELB_LOG_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def _listed(v):
    return v if isinstance(v, list) else [v]


def _elb_log_writer_allowed(policy, region, bucket, prefix, account):
    """Whether bucket `policy` lets the region's log writer put `prefix`/AWSLogs/... ."""
    import fnmatch
    import json

    try:
        doc = json.loads(policy)
    except (TypeError, ValueError):
        return False
    key = "/".join(p for p in (prefix.strip("/"), f"AWSLogs/{account}/probe") if p)
    target = f"arn:aws:s3:::{bucket}/{key}"
    elb = _ELB_LOG_ACCOUNTS.get(region)
    for st in _listed(doc.get("Statement", [])):
        if st.get("Effect") != "Allow":
            continue
        actions = _listed(st.get("Action", []))
        if not any(a in ("s3:PutObject", "s3:*", "*") for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(target, r) for r in _listed(st.get("Resource", []))):
            continue
        principal = st.get("Principal", {})
        if principal == "*":
            return True
        if not isinstance(principal, dict):
            continue
        if elb is not None:
            ids = _listed(principal.get("AWS", []))
            if any(i in (elb, f"arn:aws:iam::{elb}:root") for i in ids):
                return True
        elif _ELB_LOG_SERVICE in _listed(principal.get("Service", [])):
            return True
    return False


_elbv2_modify_lb_attrs = _elbv2_models.ELBv2Backend.modify_load_balancer_attributes


def _elbv2_modify_lb_attrs_checked(self, arn, attrs):
    """AWS checks, when access logs are switched on, that the bucket exists and lets the
    region's log writer put objects under the prefix: else InvalidConfigurationRequest
    "Access Denied for bucket"."""
    balancer = self.load_balancers.get(arn)
    merged = {**(balancer.attrs if balancer is not None else {}), **attrs}
    if str(attrs.get("access_logs.s3.enabled", "")).lower() == "true":
        attrs_now = merged
        from moto.elbv2.exceptions import ELBClientError
        from moto.s3.models import s3_backends

        bucket = attrs_now.get("access_logs.s3.bucket") or ""
        prefix = attrs_now.get("access_logs.s3.prefix") or ""
        found = s3_backends[self.account_id]["global"].buckets.get(bucket)
        if found is None:
            raise ELBClientError(
                "InvalidConfigurationRequest",
                f"The specified bucket does not exist: {bucket}",
            )
        policy = found.policy.decode() if found.policy else None
        if not _elb_log_writer_allowed(policy, self.region_name, bucket, prefix, self.account_id):
            raise ELBClientError(
                "InvalidConfigurationRequest",
                f"Access Denied for bucket: {bucket}. Please check S3bucket permission",
            )
    return _elbv2_modify_lb_attrs(self, arn, attrs)


_elbv2_models.ELBv2Backend.modify_load_balancer_attributes = _elbv2_modify_lb_attrs_checked


def _wafv2_duplicate_init(self):
    _wafv2_exceptions.WAFv2ClientError.__init__(
        self,
        "WAFDuplicateItemException",
        "AWS WAF could not perform the operation because some resource in your request "
        "is a duplicate of an existing one.",
    )


_wafv2_exceptions.WAFV2DuplicateItemException.__init__ = _wafv2_duplicate_init

_wafv2_associate = _wafv2_models.WAFV2Backend.associate_web_acl


def _wafv2_associate_replacing(self, web_acl_arn, resource_arn):
    if web_acl_arn not in self.wacls:
        raise _WAFNonexistent()
    for web_acl in self.wacls.values():
        while resource_arn in web_acl.associated_resources:
            web_acl.associated_resources.remove(resource_arn)
    return _wafv2_associate(self, web_acl_arn, resource_arn)


_wafv2_models.WAFV2Backend.associate_web_acl = _wafv2_associate_replacing


class _OriginAccessControlAlreadyExists(_CloudFrontException):
    def __init__(self, name):
        super().__init__(
            "OriginAccessControlAlreadyExists",
            f"An origin access control with the name {name} already exists.",
        )


_cf_create_oac = cf_models.CloudFrontBackend.create_origin_access_control
_cf_update_oac = cf_models.CloudFrontBackend.update_origin_access_control
_cf_oac_lock = _threading.Lock()


def _cf_oac_name_taken(backend, name, control_id=None):
    return any(
        c.name == name and c.id != control_id for c in backend.origin_access_controls.values()
    )


def _cf_create_oac_once(self, config_dict):
    with _cf_oac_lock:
        if _cf_oac_name_taken(self, config_dict.get("Name")):
            raise _OriginAccessControlAlreadyExists(config_dict.get("Name"))
        return _cf_create_oac(self, config_dict)


def _cf_update_oac_once(self, control_id, config):
    with _cf_oac_lock:
        if "Name" in config and _cf_oac_name_taken(self, config["Name"], control_id):
            raise _OriginAccessControlAlreadyExists(config["Name"])
        return _cf_update_oac(self, control_id, config)


cf_models.CloudFrontBackend.create_origin_access_control = _cf_create_oac_once
cf_models.CloudFrontBackend.update_origin_access_control = _cf_update_oac_once


if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
