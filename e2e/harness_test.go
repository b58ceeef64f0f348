//go:build e2e

// Package e2e runs the built shopdash binary against real stand-ins
// (stripe-mock; later Mailpit, the JS SDK and a browser) on free loopback
// ports, and uses it the way a client does: over HTTP. `make e2e` runs it.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the shopdash binary under test: $SHOPDASH_BIN, or one built
// into a temporary folder by TestMain.
var binary string

func TestMain(m *testing.M) {
	binary = os.Getenv("SHOPDASH_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "shopdash-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binary = filepath.Join(dir, "shopdash")
		build := exec.Command("go", "build", "-o", binary, "..")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build shopdash:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
	}
	code := m.Run()
	os.Exit(code)
}

// tool finds a stand-in installed by `make tools`.
func tool(t *testing.T, name string) string {
	t.Helper()
	for _, path := range []string{os.Getenv(strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_BIN"), filepath.Join("..", ".tools", name)} {
		if path == "" {
			continue
		}
		if abs, err := filepath.Abs(path); err == nil {
			if _, err := os.Stat(abs); err == nil {
				return abs
			}
		}
	}
	t.Fatalf("%s is not installed: run `make tools`", name)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs a command until the test ends, its output in the test log
// on failure.
func start(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
}

// waitFor polls url until it answers or ten seconds pass.
func waitFor(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 10 s", url)
}

// startStripeMock starts stripe-mock and returns its base URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	// stripe-mock also serves HTTPS, on a fixed port unless told otherwise.
	start(t, nil, tool(t, "stripe-mock"), "-http-addr", addr, "-https-addr", freeAddr(t))
	waitFor(t, "http://"+addr+"/")
	return "http://" + addr
}

// shop is a running shopdash with demo data.
type shop struct {
	t   *testing.T
	url string
}

// The superuser every test shop has.
const (
	superuserEmail    = "admin@example.com"
	superuserPassword = "e2e-admin-password"
)

// startShop seeds a fresh data dir, adds the superuser and serves it with
// the environment.
func startShop(t *testing.T, env ...string) *shop {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"seed", "--dir", dir},
		{"superuser", "upsert", superuserEmail, superuserPassword, "--dir", dir},
	} {
		if out, err := exec.Command(binary, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	addr := freeAddr(t)
	// No scheduled job runs against the stand-ins unless a test asks
	// (stripe-mock serves fixed sample events and invoices), and staff sign
	// in with their password alone unless a test turns the second factor
	// on (sessions_test.go); a test's own env comes later and wins.
	env = append([]string{"SHOPDASH_SYNC_SCHEDULE=off", "SHOPDASH_REPLAY_SCHEDULE=off", "SHOPDASH_STAFF_MFA=off"}, env...)
	start(t, append(env, "SHOPDASH_APP_URL=http://"+addr), binary, "serve", "--dir", dir, "--http", addr)
	waitFor(t, "http://"+addr+"/api/health")
	return &shop{t: t, url: "http://" + addr}
}

// call sends a JSON request and decodes the JSON answer.
func (s *shop) call(method, path, token string, body any, headers ...string) (int, map[string]any) {
	s.t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		reader = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+path, reader)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, out
}

// signIn returns the auth token of a demo account.
func (s *shop) signIn(email string) string {
	s.t.Helper()
	status, out := s.call(http.MethodPost, "/api/collections/users/auth-with-password", "",
		map[string]string{"identity": email, "password": "shopdash-demo"})
	if status != http.StatusOK {
		s.t.Fatalf("sign in %s: %d %v", email, status, out)
	}
	return out["token"].(string)
}
