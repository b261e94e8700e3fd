"""berth's IAM and access decisions as boto3 sees them: an administrator
makes a user with boto3's IAM client, the user's refusals come back as the
typed exceptions and texts of real ECR, and a policy put with boto3 lets it
in. Run by TestBoto3Access with BERTH_URL, BERTH_KEY, BERTH_SECRET and
BERTH_ACCOUNT set."""
import json
import os

import boto3

url, account = os.environ["BERTH_URL"], os.environ["BERTH_ACCOUNT"]


def client(service, key, secret):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


root_iam = client("iam", os.environ["BERTH_KEY"], os.environ["BERTH_SECRET"])
root_ecr = client("ecr", os.environ["BERTH_KEY"], os.environ["BERTH_SECRET"])
root_ecr.create_repository(repositoryName="app/web")

user = root_iam.create_user(UserName="ci")["User"]
assert user["Arn"] == f"arn:aws:iam::{account}:user/ci", user
key = root_iam.create_access_key(UserName="ci")["AccessKey"]
ci_ecr = client("ecr", key["AccessKeyId"], key["SecretAccessKey"])
ci_sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
assert ci_sts.get_caller_identity()["Arn"] == user["Arn"]

try:
    ci_ecr.get_authorization_token()
    raise SystemExit("GetAuthorizationToken allowed without a policy")
except ci_ecr.exceptions.ClientError as e:
    err = e.response["Error"]
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
    assert err["Code"] == "AccessDeniedException", err
    want = (f"User: {user['Arn']} is not authorized to perform: ecr:GetAuthorizationToken on resource: * "
            "because no identity-based policy allows the ecr:GetAuthorizationToken action")
    assert err["Message"] == want, err["Message"]

try:
    root_iam.create_user(UserName="ci")
    raise SystemExit("a second user ci was created")
except root_iam.exceptions.EntityAlreadyExistsException as e:
    assert "already exists" in e.response["Error"]["Message"], e.response

try:
    root_ecr.get_repository_policy(repositoryName="app/web")
    raise SystemExit("a policy where none was set")
except root_ecr.exceptions.RepositoryPolicyNotFoundException as e:
    want = f"Repository policy does not exist for the repository with name 'app/web' in the registry with id '{account}'"
    assert e.response["Error"]["Message"] == want, e.response

doc = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["ecr:DescribeImages"], "Resource": f"arn:aws:ecr:us-east-1:{account}:repository/app/*"}]}
root_iam.put_user_policy(UserName="ci", PolicyName="read-app", PolicyDocument=json.dumps(doc))
got = root_iam.get_user_policy(UserName="ci", PolicyName="read-app")["PolicyDocument"]
assert got == doc, got  # boto3 decodes IAM's URL-encoded document
assert ci_ecr.get_authorization_token()["authorizationData"]
assert ci_ecr.describe_images(repositoryName="app/web")["imageDetails"] == []
try:
    ci_ecr.delete_repository(repositoryName="app/web")
    raise SystemExit("DeleteRepository allowed")
except ci_ecr.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDeniedException", e.response
print("boto3 access ok")
