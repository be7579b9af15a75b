"""strata's moto server: moto (pinned in scripts/local-aws.sh), with fixes for the places
where moto's answers differ from AWS's in ways the AWS SDK for Rust refuses.

Run it instead of `moto_server`, with the same arguments:
    .venv/bin/python scripts/moto_ext.py -H 127.0.0.1 -p 5555

Fixes (each one documented with the AWS behaviour it restores):
- S3 GetBucketVersioning: AWS answers with a `VersioningConfiguration` root element;
  moto 5.2.5 answers `GetBucketVersioningResponse`, which the SDK refuses to parse.
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

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
