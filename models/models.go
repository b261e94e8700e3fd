// Package models holds the official AWS API models berth's doors are
// driven by, as data: botocore's service-2.json files, unchanged (see
// README.md for their versions).
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
