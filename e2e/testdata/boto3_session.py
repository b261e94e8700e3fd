"""Drives berth with boto3: the typed exceptions botocore maps must match."""
import hashlib
import json
import os
import sys

import boto3

ecr = boto3.client(
    "ecr",
    endpoint_url=os.environ["BERTH_URL"],
    region_name="us-east-1",
    aws_access_key_id=os.environ["BERTH_KEY"],
    aws_secret_access_key=os.environ["BERTH_SECRET"],
    config=boto3.session.Config(retries={"max_attempts": 1}),
)


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def upload(repo, data):
    up = ecr.initiate_layer_upload(repositoryName=repo)
    ecr.upload_layer_part(repositoryName=repo, uploadId=up["uploadId"], partFirstByte=0,
                          partLastByte=len(data) - 1, layerPartBlob=data)
    return ecr.complete_layer_upload(repositoryName=repo, uploadId=up["uploadId"],
                                     layerDigests=[digest(data)])["layerDigest"]


def expect(exc, fn, **kw):
    try:
        fn(**kw)
    except exc as e:
        return e
    raise AssertionError(f"{fn.__name__}: expected {exc.__name__}")


ecr.create_repository(repositoryName="boto")
expect(ecr.exceptions.RepositoryAlreadyExistsException, ecr.create_repository, repositoryName="boto")
expect(ecr.exceptions.RepositoryNotFoundException, ecr.describe_images, repositoryName="missing")
expect(ecr.exceptions.InvalidParameterException, ecr.create_repository, repositoryName="Bad")

cfg = b'{"os":"linux"}'
layer = b"boto3 layer"
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(cfg), "digest": upload("boto", cfg)},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer), "digest": upload("boto", layer)}],
})
out = ecr.put_image(repositoryName="boto", imageManifest=manifest, imageTag="v1")
assert out["image"]["imageId"]["imageDigest"] == digest(manifest.encode()), out
assert out["ResponseMetadata"]["RequestId"], out["ResponseMetadata"]
e = expect(ecr.exceptions.ImageAlreadyExistsException, ecr.put_image, repositoryName="boto", imageManifest=manifest, imageTag="v1")
assert "already exists" in e.response["Error"]["Message"], e.response

up = ecr.initiate_layer_upload(repositoryName="boto")
e = expect(ecr.exceptions.InvalidLayerPartException, ecr.upload_layer_part, repositoryName="boto", uploadId=up["uploadId"],
           partFirstByte=5, partLastByte=9, layerPartBlob=b"12345")
assert e.response.get("lastValidByteReceived") == -1, e.response

details = ecr.describe_images(repositoryName="boto")["imageDetails"]
assert details[0]["imageTags"] == ["v1"] and details[0]["imageSizeInBytes"] == len(cfg) + len(layer), details
assert details[0]["imagePushedAt"].year >= 2024, details

ecr.put_image_tag_mutability(repositoryName="boto", imageTagMutability="IMMUTABLE")
other = manifest.replace('"schemaVersion": 2', '"schemaVersion": 2 ')
expect(ecr.exceptions.ImageTagAlreadyExistsException, ecr.put_image, repositoryName="boto", imageManifest=other, imageTag="v1")
print("boto3 session ok")
