package e2e

import (
	"net/http"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	e := startWith(t, func(c *serverConfig) { c.Pprof = "127.0.0.1:0" })
	e.createRepo("metered")
	e.pushImage("metered", "m", 1)
	resp, body := e.raw(must[*http.Request](t)(http.NewRequest("GET", e.url+"/metrics", nil)))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`berth_http_requests_total{operation="ecr:CreateRepository",status="200"} 1`,
		`berth_http_requests_total{operation="ecr:UploadLayerPart",status="200"} 2`,
		`berth_http_request_duration_seconds_count{operation="ecr:CompleteLayerUpload"} 2`,
		`berth_store_operation_duration_seconds_count{operation="update",store="metadata"}`,
		`berth_uploads_in_progress 0`,
		`berth_http_received_bytes_total`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
