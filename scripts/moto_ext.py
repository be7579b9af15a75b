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

Operations moto lacks, served here with AWS's semantics (each one also tested with
aws-smithy-mocks in the crate that calls it):
- ElastiCache DeleteCacheSubnetGroup (refused while a replication group uses the group)
  and ModifyCacheSubnetGroup (description and subnets).
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


if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
