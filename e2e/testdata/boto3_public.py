"""ECR Public through boto3: every one of the 23 operations of
boto3.client("ecr-public") against berth, their outputs checked member by
member, the main errors as botocore's typed exceptions with their codes,
and the paged operations a page at a time. Layers go up with
InitiateLayerUpload, UploadLayerPart and CompleteLayerUpload, the manifest
with PutImage; the image is then read back anonymously from the public
registry endpoint, and retagged with the manifest read there, since ECR
Public has no BatchGetImage. Run by TestBoto3Public with BERTH_URL,
BERTH_PUBLIC_URL, BERTH_ALIAS, BERTH_KEY, BERTH_SECRET and BERTH_ACCOUNT
set."""
import base64
import datetime
import hashlib
import json
import os
import struct
import urllib.request
import zlib

import boto3

url, public_url = os.environ["BERTH_URL"], os.environ["BERTH_PUBLIC_URL"]
alias, account = os.environ["BERTH_ALIAS"], os.environ["BERTH_ACCOUNT"]
host = public_url.split("://", 1)[1]

pub = boto3.client("ecr-public", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id=os.environ["BERTH_KEY"], aws_secret_access_key=os.environ["BERTH_SECRET"])
assert len(pub.meta.service_model.operation_names) == 23
called = set()
pub.meta.events.register("before-call.ecr-public", lambda model, **_: called.add(model.name))


def fails(exception, code, call, *args, **kwargs):
    """Runs call, which must raise the typed exception with that code, and
    returns its message."""
    try:
        call(*args, **kwargs)
    except exception as e:
        err = e.response["Error"]
        assert err["Code"] == code, err
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        return err["Message"]
    raise SystemExit(f"{call.__name__} succeeded; wanted {code}")


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def png(width, height):
    """A grey PNG image of that size."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def is_time(v):
    return isinstance(v, datetime.datetime) and v.tzinfo is not None


arn = f"arn:aws:ecr-public::{account}:repository/"
repo = "team/app"

# CreateRepository, with catalog data and tags; the logo is checked and
# kept, and no logoUrl is given back.
catalog = {"description": "An app", "architectures": ["x86-64", "ARM 64"], "operatingSystems": ["Linux"],
           "aboutText": "# About\nIt runs.", "usageText": "podman pull " + host + "/" + alias + "/" + repo,
           "logoImageBlob": png(64, 64)}
out = pub.create_repository(repositoryName=repo, catalogData=catalog, tags=[{"Key": "team", "Value": "a"}])
r = out["repository"]
assert r["repositoryArn"] == arn + repo, r
assert r["registryId"] == account and r["repositoryName"] == repo, r
assert r["repositoryUri"] == f"{host}/{alias}/{repo}", r
assert is_time(r["createdAt"]), r
assert set(r) == {"repositoryArn", "registryId", "repositoryName", "repositoryUri", "createdAt"}, r
want_catalog = {k: v for k, v in catalog.items() if k != "logoImageBlob"}
assert out["catalogData"] == want_catalog, out["catalogData"]

fails(pub.exceptions.RepositoryAlreadyExistsException, "RepositoryAlreadyExistsException",
      pub.create_repository, repositoryName=repo)
# ECR Public's name pattern is the old, stricter one: no "__", no "--".
for bad in ["a__b", "a--b", "a_-b"]:
    msg = fails(pub.exceptions.InvalidParameterException, "InvalidParameterException", pub.create_repository, repositoryName=bad)
    assert "repositoryName" in msg, msg
msg = fails(pub.exceptions.InvalidParameterException, "InvalidParameterException",
            pub.create_repository, repositoryName="x" * 206)
assert "205" in msg, msg
# A logo that is not a PNG, or of the wrong size: refused, and the
# repository is not left behind.
msg = fails(pub.exceptions.InvalidParameterException, "InvalidParameterException", pub.create_repository,
            repositoryName="logo/bad", catalogData={"logoImageBlob": b"GIF89a not a png"})
assert "logoImageBlob" in msg and "PNG" in msg, msg
msg = fails(pub.exceptions.InvalidParameterException, "InvalidParameterException", pub.create_repository,
            repositoryName="logo/bad", catalogData={"logoImageBlob": png(30, 30)})
assert "30x30" in msg, msg
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException",
      pub.describe_repositories, repositoryNames=["logo/bad"])

# More repositories, for paging; one without catalog data.
for name in ["team/b", "team/c"]:
    assert pub.create_repository(repositoryName=name)["catalogData"] == {}

# DescribeRepositories: by name, and all of them a page at a time.
got = pub.describe_repositories(repositoryNames=[repo])["repositories"]
assert got == [r], got
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException",
      pub.describe_repositories, repositoryNames=["nope"])
names, pages, token = [], 0, None
while True:
    page = pub.describe_repositories(maxResults=2, **({"nextToken": token} if token else {}))
    assert len(page["repositories"]) <= 2, page
    names += [x["repositoryName"] for x in page["repositories"]]
    pages += 1
    token = page.get("nextToken")
    if not token:
        break
assert sorted(names) == ["team/app", "team/b", "team/c"] and len(names) == 3 and pages == 2, (names, pages)
assert sorted(x["repositoryName"] for x in pub.describe_repositories()["repositories"]) == sorted(names)
full = pub.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 1}).build_full_result()
assert sorted(x["repositoryName"] for x in full["repositories"]) == sorted(names), full

# DescribeRegistries: the one public registry, with its alias.
regs = pub.describe_registries()["registries"]
assert regs == [{"registryId": account, "registryArn": f"arn:aws:ecr-public::{account}:registry/{account}",
                 "registryUri": f"{host}/{alias}", "verified": False,
                 "aliases": [{"name": alias, "status": "ACTIVE", "primaryRegistryAlias": True, "defaultRegistryAlias": True}]}], regs

# Registry catalog data: none, then a display name.
assert pub.get_registry_catalog_data()["registryCatalogData"] == {}
assert pub.put_registry_catalog_data(displayName="Berth")["registryCatalogData"] == {"displayName": "Berth"}
assert pub.get_registry_catalog_data()["registryCatalogData"] == {"displayName": "Berth"}
assert pub.put_registry_catalog_data()["registryCatalogData"] == {"displayName": "Berth"}  # no name: unchanged

# Repository catalog data: a put replaces it all; none set is empty.
assert pub.get_repository_catalog_data(repositoryName=repo)["catalogData"] == want_catalog
assert pub.get_repository_catalog_data(repositoryName="team/b")["catalogData"] == {}
out = pub.put_repository_catalog_data(repositoryName="team/b", catalogData={"description": "B", "operatingSystems": ["Windows"]})
assert out["catalogData"] == {"description": "B", "operatingSystems": ["Windows"]}, out
out = pub.put_repository_catalog_data(repositoryName="team/b", catalogData={"usageText": "use it"})
assert out["catalogData"] == {"usageText": "use it"}, out
assert pub.get_repository_catalog_data(repositoryName="team/b")["catalogData"] == {"usageText": "use it"}
fails(pub.exceptions.InvalidParameterException, "InvalidParameterException", pub.put_repository_catalog_data,
      repositoryName="team/b", catalogData={"logoImageBlob": b"not a picture"})
msg = fails(pub.exceptions.InvalidParameterException, "InvalidParameterException", pub.put_repository_catalog_data,
            repositoryName="team/b", catalogData={"logoImageBlob": png(64, 64) + b"\0" * 512000})
assert "512000" in msg, msg  # the model's limit, on a PNG whose header is fine
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException", pub.put_repository_catalog_data,
      repositoryName="nope", catalogData={})
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException",
      pub.get_repository_catalog_data, repositoryName="nope")

# A push: the config and a layer, each in one part, the first naming the
# registry by its alias and the second by its account id.
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
layer = b"a layer of team/app, pushed by boto3"
for blob, registry in [(config, alias), (layer, account)]:
    up = pub.initiate_layer_upload(registryId=registry, repositoryName=repo)
    assert set(up) - {"ResponseMetadata"} == {"uploadId", "partSize"} and up["partSize"] > 0, up
    part = pub.upload_layer_part(registryId=registry, repositoryName=repo, uploadId=up["uploadId"],
                                 partFirstByte=0, partLastByte=len(blob) - 1, layerPartBlob=blob)
    assert part["registryId"] == account and part["repositoryName"] == repo, part
    assert part["uploadId"] == up["uploadId"] and part["lastByteReceived"] == len(blob) - 1, part
    done = pub.complete_layer_upload(registryId=registry, repositoryName=repo, uploadId=up["uploadId"], layerDigests=[digest(blob)])
    assert done["registryId"] == account and done["repositoryName"] == repo, done
    assert done["uploadId"] == up["uploadId"] and done["layerDigest"] == digest(blob), done
# An alias that is not this registry's.
fails(pub.exceptions.RegistryNotFoundException, "RegistryNotFoundException",
      pub.initiate_layer_upload, registryId="someone", repositoryName=repo)
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException",
      pub.initiate_layer_upload, repositoryName="nope")

missing = digest(b"never uploaded")
check = pub.batch_check_layer_availability(registryId=alias, repositoryName=repo, layerDigests=[digest(layer), missing])
# Its media type is known once a manifest names it.
assert check["layers"] == [{"layerDigest": digest(layer), "layerAvailability": "AVAILABLE", "layerSize": len(layer)}], check
assert [f["layerDigest"] for f in check["failures"]] == [missing], check
assert check["failures"][0]["failureCode"] == "MissingLayerDigest", check

manifest = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(layer), "size": len(layer)}],
}, separators=(",", ":"))
image_digest = digest(manifest.encode())
image = pub.put_image(registryId=alias, repositoryName=repo, imageManifest=manifest, imageTag="v1")["image"]
assert image == {"registryId": account, "repositoryName": repo, "imageId": {"imageDigest": image_digest, "imageTag": "v1"},
                 "imageManifest": manifest, "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}, image
check = pub.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest(layer)])
assert check["layers"] == [{"layerDigest": digest(layer), "layerAvailability": "AVAILABLE", "layerSize": len(layer),
                            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"}] and check["failures"] == [], check
# A manifest naming a blob that was never uploaded.
broken = manifest.replace(digest(layer), missing)
msg = fails(pub.exceptions.LayersNotFoundException, "LayersNotFoundException",
            pub.put_image, repositoryName=repo, imageManifest=broken, imageTag="broken")
assert missing in msg, msg
fails(pub.exceptions.ImageDigestDoesNotMatchException, "ImageDigestDoesNotMatchException",
      pub.put_image, repositoryName=repo, imageManifest=manifest, imageDigest=missing)
fails(pub.exceptions.ImageAlreadyExistsException, "ImageAlreadyExistsException",
      pub.put_image, repositoryName=repo, imageManifest=manifest, imageTag="v1")

# The image on the public endpoint, anonymously: a token from /token/, the
# manifest by tag. Its bytes retag it (ECR Public has no BatchGetImage).
with urllib.request.urlopen(f"{public_url}/token/?service={host}&scope=aws") as resp:
    token = json.load(resp)["token"]
req = urllib.request.Request(f"{public_url}/v2/{alias}/{repo}/manifests/v1", headers={
    "Authorization": "Bearer " + token, "Accept": "application/vnd.oci.image.manifest.v1+json"})
with urllib.request.urlopen(req) as resp:
    pulled = resp.read().decode()
assert pulled == manifest, pulled
for tag in ["v2", "v3"]:
    out = pub.put_image(repositoryName=repo, imageManifest=pulled, imageTag=tag)["image"]
    assert out["imageId"] == {"imageDigest": image_digest, "imageTag": tag}, out
# Tags are mutable in ECR Public: v3 moves to another image, which is pushed
# by digest too.
other = manifest.replace('"schemaVersion":2', '"schemaVersion":2,"annotations":{"n":"2"}')
other_digest = digest(other.encode())
out = pub.put_image(repositoryName=repo, imageManifest=other, imageDigest=other_digest)["image"]
assert out["imageId"] == {"imageDigest": other_digest}, out
assert pub.put_image(repositoryName=repo, imageManifest=other, imageTag="v3")["image"]["imageId"]["imageTag"] == "v3"

# DescribeImages.
details = {d["imageDigest"]: d for d in pub.describe_images(repositoryName=repo)["imageDetails"]}
assert set(details) == {image_digest, other_digest}, details
d = details[image_digest]
assert d["registryId"] == account and d["repositoryName"] == repo, d
assert sorted(d["imageTags"]) == ["v1", "v2"], d
assert d["imageSizeInBytes"] == len(config) + len(layer) and is_time(d["imagePushedAt"]), d
assert d["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", d
assert d["artifactMediaType"] == "application/vnd.oci.image.config.v1+json", d
assert set(d) <= {"registryId", "repositoryName", "imageDigest", "imageTags", "imageSizeInBytes", "imagePushedAt",
                  "imageManifestMediaType", "artifactMediaType"}, d
assert details[other_digest]["imageTags"] == ["v3"], details[other_digest]
by_tag = pub.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v2"}])["imageDetails"]
assert [x["imageDigest"] for x in by_tag] == [image_digest], by_tag
fails(pub.exceptions.ImageNotFoundException, "ImageNotFoundException",
      pub.describe_images, repositoryName=repo, imageIds=[{"imageDigest": missing}])
first = pub.describe_images(repositoryName=repo, maxResults=1)
assert len(first["imageDetails"]) == 1 and first["nextToken"], first
second = pub.describe_images(repositoryName=repo, maxResults=1, nextToken=first["nextToken"])
assert len(second["imageDetails"]) == 1 and "nextToken" not in second, second
assert {first["imageDetails"][0]["imageDigest"], second["imageDetails"][0]["imageDigest"]} == {image_digest, other_digest}

# DescribeImageTags, a page at a time.
tags, pages, token = [], 0, None
while True:
    page = pub.describe_image_tags(repositoryName=repo, maxResults=1, **({"nextToken": token} if token else {}))
    assert len(page["imageTagDetails"]) == 1, page
    t = page["imageTagDetails"][0]
    want = other_digest if t["imageTag"] == "v3" else image_digest
    assert t["imageDetail"]["imageDigest"] == want and is_time(t["createdAt"]), t
    assert t["imageDetail"]["imageSizeInBytes"] == len(config) + len(layer), t
    assert t["imageDetail"]["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", t
    tags.append(t["imageTag"])
    pages += 1
    token = page.get("nextToken")
    if not token:
        break
assert tags == ["v1", "v2", "v3"] and pages == 3, tags
all_tags = pub.describe_image_tags(repositoryName=repo)
assert [t["imageTag"] for t in all_tags["imageTagDetails"]] == tags and "nextToken" not in all_tags, all_tags
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException", pub.describe_image_tags, repositoryName="nope")

# Resource tags, on the public ARN.
assert pub.list_tags_for_resource(resourceArn=arn + repo)["tags"] == [{"Key": "team", "Value": "a"}]
pub.tag_resource(resourceArn=arn + repo, tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "b"}])
got = sorted((t["Key"], t["Value"]) for t in pub.list_tags_for_resource(resourceArn=arn + repo)["tags"])
assert got == [("env", "prod"), ("team", "b")], got
pub.untag_resource(resourceArn=arn + repo, tagKeys=["team"])
assert pub.list_tags_for_resource(resourceArn=arn + repo)["tags"] == [{"Key": "env", "Value": "prod"}]
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException",
      pub.list_tags_for_resource, resourceArn=arn + "nope")
fails(pub.exceptions.InvalidParameterException, "InvalidParameterException",
      pub.list_tags_for_resource, resourceArn=f"arn:aws:ecr:us-east-1:{account}:repository/{repo}")

# Repository policies, with ecr-public: actions.
fails(pub.exceptions.RepositoryPolicyNotFoundException, "RepositoryPolicyNotFoundException",
      pub.get_repository_policy, repositoryName=repo)
text = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "push", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
     "Action": ["ecr-public:BatchCheckLayerAvailability", "ecr-public:PutImage"]}]})
out = pub.set_repository_policy(repositoryName=repo, policyText=text)
assert out["registryId"] == account and out["repositoryName"] == repo and json.loads(out["policyText"]) == json.loads(text), out
out = pub.get_repository_policy(repositoryName=repo)
assert out["registryId"] == account and out["repositoryName"] == repo and json.loads(out["policyText"]) == json.loads(text), out
out = pub.delete_repository_policy(repositoryName=repo)
assert out["registryId"] == account and out["repositoryName"] == repo and json.loads(out["policyText"]) == json.loads(text), out
fails(pub.exceptions.RepositoryPolicyNotFoundException, "RepositoryPolicyNotFoundException",
      pub.delete_repository_policy, repositoryName=repo)

# BatchDeleteImage: by tag, by digest, and a tag that is not there.
out = pub.batch_delete_image(registryId=alias, repositoryName=repo, imageIds=[{"imageTag": "v3"}, {"imageTag": "gone"}])
assert out["imageIds"] == [{"imageDigest": other_digest, "imageTag": "v3"}], out
assert [(f["imageId"], f["failureCode"]) for f in out["failures"]] == [({"imageTag": "gone"}, "ImageNotFound")], out
assert {x["imageDigest"] for x in pub.describe_images(repositoryName=repo)["imageDetails"]} == {image_digest}

# DeleteRepository: not while it holds images, unless forced.
fails(pub.exceptions.RepositoryNotEmptyException, "RepositoryNotEmptyException", pub.delete_repository, repositoryName=repo)
out = pub.delete_repository(repositoryName=repo, force=True)["repository"]
assert out["repositoryArn"] == arn + repo and out["repositoryName"] == repo and out["registryId"] == account, out
assert pub.delete_repository(repositoryName="team/c")["repository"]["repositoryName"] == "team/c"
fails(pub.exceptions.RepositoryNotFoundException, "RepositoryNotFoundException", pub.delete_repository, repositoryName=repo)
assert [x["repositoryName"] for x in pub.describe_repositories()["repositories"]] == ["team/b"]

# GetAuthorizationToken: one object, no proxyEndpoint; base64 of AWS:<password>.
auth = pub.get_authorization_token()["authorizationData"]
assert set(auth) == {"authorizationToken", "expiresAt"}, auth
assert base64.b64decode(auth["authorizationToken"]).startswith(b"AWS:"), auth
assert is_time(auth["expiresAt"]) and auth["expiresAt"] > datetime.datetime.now(datetime.timezone.utc), auth
assert called == set(pub.meta.service_model.operation_names), set(pub.meta.service_model.operation_names) - called
print("boto3 public ok")
