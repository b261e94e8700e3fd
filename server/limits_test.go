package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startLimited runs a server with limits changed for a test.
func startLimited(t *testing.T, change func(*Limits)) *Server {
	t.Helper()
	s := New(io.Discard, io.Discard)
	s.Config = Defaults()
	s.Config.Addr, s.Config.DataDir = "127.0.0.1:0", t.TempDir()
	s.Config.PublicAddr = "127.0.0.1:0" // tests run side by side
	// These tests send unsigned requests on purpose, as many as they
	// need: the sign-in throttle would refuse them (auth's own test has it).
	s.Config.Limits.AuthFailures = -1
	change(&s.Config.Limits)
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// limitCount reads berth_limit_triggers_total{limit} from /metrics.
func limitCount(t *testing.T, s *Server, limit string) string {
	return metricValue(t, s, `berth_limit_triggers_total{limit="`+limit+`"}`)
}

// metricValue reads one series' value from /metrics ("0" when absent).
func metricValue(t *testing.T, s *Server, series string) string {
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return "0"
}

// rawConn sends text on a new connection and returns the connection.
func rawConn(t *testing.T, s *Server, text string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	return c
}

// closedByServer reads c until the server closes it, answering whatever
// it answered first. The read deadline only keeps a broken test from
// hanging: the assertion is that the server closed.
func closedByServer(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open; read so far: %q", b)
	}
	return string(b)
}

func TestHeaderLimits(t *testing.T) {
	s := startLimited(t, func(*Limits) {})
	// A megabyte of header, on both APIs: 431, and the connection closed.
	for _, path := range []string{"/v2/", "/"} {
		c := rawConn(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 1<<20)+"\r\n\r\n")
		if got := closedByServer(t, c); !strings.HasPrefix(got, "HTTP/1.1 431") {
			t.Errorf("%s with a 1 MiB header: %.80q", path, got)
		}
	}
	// 200 header lines: 431 in each API's error form.
	var hdr strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&hdr, "X-H%d: v\r\n", i)
	}
	for path, want := range map[string]string{"/v2/": `"code":"TOOMANYHEADERS"`, "/": `"__type":"RequestHeaderFieldsTooLarge"`} {
		c := rawConn(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n"+hdr.String()+"\r\n")
		if got := closedByServer(t, c); !strings.HasPrefix(got, "HTTP/1.1 431") || !strings.Contains(got, want) {
			t.Errorf("%s with 200 headers: %q", path, got)
		}
	}
	if n := limitCount(t, s, "header_count"); n != "2" {
		t.Errorf("header_count counted %s, want 2", n)
	}
}

// TestIdleConnectionsClose: a keep-alive connection left idle after a
// request is closed by the server.
func TestIdleConnectionsClose(t *testing.T) {
	s := startLimited(t, func(l *Limits) { l.IdleTimeout = 200 * time.Millisecond })
	c := rawConn(t, s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("an idle keep-alive connection: %v, want it closed", err)
	}
}

// TestStalledBody: a request body that stops moving is cut after the
// window; one that moves slowly but steadily, for longer than the window,
// goes through.
func TestStalledBody(t *testing.T) {
	s := startLimited(t, func(l *Limits) { l.StallTimeout = 2 * time.Second })
	head := "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories\r\n" +
		"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 30\r\n\r\n"
	c := rawConn(t, s, head+"{}")
	closedByServer(t, c)
	if n := limitCount(t, s, "body_stall"); n != "1" {
		t.Errorf("body_stall counted %s, want 1", n)
	}
	// 30 bytes, one each 100 ms: 3 s in all, longer than the window, and
	// never near 2 s without one (a loaded machine has room).
	c = rawConn(t, s, head)
	body := "{" + strings.Repeat(" ", 28) + "}"
	for i := 0; i < len(body); i++ {
		time.Sleep(100 * time.Millisecond)
		if _, err := io.WriteString(c, body[i:i+1]); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusForbidden { // read whole, then refused: unsigned
		t.Fatalf("a slow but live body: %v %v", resp, err)
	}
}

// TestConnectionCap: past the cap of open connections, requests are
// answered 429 until connections close.
func TestConnectionCap(t *testing.T) {
	s := startLimited(t, func(l *Limits) { l.MaxConnections = 3 })
	var idle []net.Conn
	for i := 0; i < 3; i++ {
		idle = append(idle, rawConn(t, s, ""))
	}
	c := rawConn(t, s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if got := closedByServer(t, c); !strings.HasPrefix(got, "HTTP/1.1 429") {
		t.Fatalf("a fourth connection: %.60q", got)
	}
	for _, c := range idle {
		c.Close()
	}
	// The server sees them go in its own time: ask until it has.
	for i := 0; ; i++ {
		resp, err := http.Get(s.URL() + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if resp != nil {
			resp.Body.Close()
		}
		if i == 1000 {
			t.Fatal("still refused after the connections closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUploadsPerClient: a client address sending its cap of uploads gets
// 429 for another until one ends.
func TestUploadsPerClient(t *testing.T) {
	s := startLimited(t, func(l *Limits) { l.MaxUploadsPerClient = 1 })
	part := func(body string, length int) string {
		return "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonEC2ContainerRegistry_V20150921.UploadLayerPart\r\n" +
			"Content-Type: application/x-amz-json-1.1\r\nContent-Length: " + fmt.Sprint(length) + "\r\n\r\n" + body
	}
	first := rawConn(t, s, part("{", 100)) // in flight: its body is not all there
	// Wait until it has reached berth: a second sent before that would
	// take the slot itself and the first would be the one refused.
	for i := 0; metricValue(t, s, "berth_upload_requests_sending") != "1"; i++ {
		if i == 1000 {
			t.Fatal("the first upload never reached berth")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.ReadResponse(bufio.NewReader(rawConn(t, s, part("{}", 2))), nil)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Amzn-ErrorType") != "ThrottlingException" {
		t.Fatalf("a second upload at once: %v %v", resp, err)
	}
	first.Close()
	for i := 0; ; i++ {
		c := rawConn(t, s, part("{}", 2))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil && resp.StatusCode != http.StatusTooManyRequests {
			break // unsigned: refused for that, not for the cap
		}
		if i == 1000 {
			t.Fatal("still refused after the first upload ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
