package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/berth-registry/berth/awsproto"
)

// call checks the operation's input as botocore does, sends it over AWS
// JSON 1.1 as botocore writes it, signed with the credentials of the
// standard AWS chain, and returns the answer's body.
func (m *Main) call(ctx context.Context, svc *service, op *awsproto.Operation, inv *invocation) ([]byte, error) {
	var opts []func(*config.LoadOptions) error
	if inv.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(inv.profile))
	}
	if inv.region != "" {
		opts = append(opts, config.WithRegion(inv.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	region := cfg.Region
	if svc.name == "ecr-public" {
		region = "us-east-1" // ECR Public's API is in us-east-1 only
	}
	if region == "" {
		return nil, fmt.Errorf("You must specify a region. You can also configure your region by setting AWS_DEFAULT_REGION or --region.")
	}
	input := inv.input
	if input == nil {
		input = newObject()
	}
	// botocore validates every call before it signs it: after the
	// region (the client's), before the credentials.
	if err := validate(svc, op.Input, input); err != nil {
		return nil, err
	}
	endpoint := m.endpoint(svc, inv, cfg.BaseEndpoint, region)
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("Unable to locate credentials. You can configure credentials by setting AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile: %v", err)
	}
	var b strings.Builder
	pyDumps(&b, op.Input, input)
	body := []byte(b.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("Invalid endpoint: %s", endpoint)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", svc.model.Metadata.TargetPrefix+"."+op.Name)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), svc.model.Metadata.SigningName, region, time.Now()); err != nil {
		return nil, err
	}
	// The SDK's client honours AWS_CA_BUNDLE, as the AWS CLI does.
	var client interface {
		Do(*http.Request) (*http.Response, error)
	} = cfg.HTTPClient
	if m.HTTPClient != nil {
		client = m.HTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Could not connect to the endpoint URL: %q", req.URL.String())
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the answer to %s: %w", op.Name, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, answerError(op.Name, resp, answer)
	}
	return answer, nil
}

// endpoint is --endpoint-url, else the environment's (as berth env sets
// it), else AWS's own.
func (m *Main) endpoint(svc *service, inv *invocation, base *string, region string) string {
	if inv.endpoint != "" {
		return inv.endpoint
	}
	env := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(svc.model.Metadata.ServiceID, " ", "_"))
	if v := m.getenv(env); v != "" {
		return v
	}
	if base != nil && *base != "" {
		return *base
	}
	return "https://api." + svc.name + "." + region + ".amazonaws.com"
}

// answerError reads an AWS JSON error answer: its code from __type (after
// any namespace#) or X-Amzn-ErrorType, its message from message or
// Message.
func answerError(operation string, resp *http.Response, body []byte) error {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	code := e.Type
	if code == "" {
		code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	}
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = fmt.Sprint(resp.StatusCode)
	}
	msg := e.Message
	if msg == "" {
		msg = e.Message2
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &serviceError{Code: code, Message: msg, Operation: operation}
}
