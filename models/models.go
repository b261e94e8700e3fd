// Package models holds the official AWS API models berth's doors are
// driven by, as data: botocore's service-2.json files, and the
// paginators-1.json files berth's CLI pages by, unchanged (see README.md
// for their versions).
package models

import _ "embed"

// ECR is the Amazon ECR model, API version 2015-09-21.
//
//go:embed ecr-2015-09-21.json
var ECR []byte

// ECRPublic is the Amazon ECR Public model, API version 2020-10-30.
//
//go:embed ecr-public-2020-10-30.json
var ECRPublic []byte

// ECRPaginators is the Amazon ECR paginator model, API version
// 2015-09-21: which operations the CLI pages through on its own, and by
// which tokens, limit and result keys.
//
//go:embed ecr-2015-09-21.paginators.json
var ECRPaginators []byte

// ECRPublicPaginators is the Amazon ECR Public paginator model, API
// version 2020-10-30.
//
//go:embed ecr-public-2020-10-30.paginators.json
var ECRPublicPaginators []byte

// IAM is the AWS Identity and Access Management model, API version
// 2010-05-08 (the query protocol).
//
//go:embed iam-2010-05-08.json
var IAM []byte

// STS is the AWS Security Token Service model, API version 2011-06-15 (the
// query protocol).
//
//go:embed sts-2011-06-15.json
var STS []byte
