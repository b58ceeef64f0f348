package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	suEmail    = "bench@example.com"
	suPassword = "bench-password-123"
)

// server is one running `shopdash serve` process.
type server struct {
	cmd     *exec.Cmd
	base    string
	startup time.Duration
	log     *os.File
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// runCmd runs a shopdash sub-command to completion and returns its duration.
func runCmd(bin string, args ...string) (time.Duration, error) {
	start := time.Now()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, out)
	}
	return time.Since(start), nil
}

// startServer starts `bin serve` on a free port and waits for a 200 from
// /api/health; startup is process start to that 200.
func startServer(bin, dir string, env []string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(filepath.Join(dir, "bench-serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--dir", dir, "--http", addr)
	cmd.Env = append(append(os.Environ(), "SHOPDASH_SYNC_SCHEDULE=off", "SHOPDASH_REPLAY_SCHEDULE=off"), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	s := &server{cmd: cmd, base: "http://" + addr, log: lf}
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	for {
		resp, err := client.Get(s.base + "/api/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				s.startup = time.Since(start)
				return s, nil
			}
		}
		if time.Since(start) > 30*time.Second {
			s.stop()
			return nil, fmt.Errorf("server did not answer /api/health within 30 s (see %s)", lf.Name())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.log.Close()
}

// procStatusKB reads a "VmXXX:" field of /proc/<pid>/status in kB.
func procStatusKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, field+":") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				n, _ := strconv.ParseInt(fs[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

func (s *server) rssMB() float64  { return float64(procStatusKB(s.cmd.Process.Pid, "VmRSS")) / 1024 }
func (s *server) peakMB() float64 { return float64(procStatusKB(s.cmd.Process.Pid, "VmHWM")) / 1024 }

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// Linux's supported architectures.
const clockTicks = 100

// cpuTime is the CPU time the server process has used so far, user and
// system (/proc/<pid>/stat fields 14 and 15), or 0 when unreadable.
func (s *server) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	fs := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fs) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fs[11], 10, 64)
	stime, _ := strconv.ParseInt(fs[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// api is a tiny JSON client for set-up calls (not measured).
type api struct {
	base  string
	token string
}

func (a api) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// saveProfile writes the pprof profile at path (a /debug/pprof route) to file.
func (a api) saveProfile(path, file string) error {
	req, err := http.NewRequest("GET", a.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setup signs the bench superuser in once, excludes 127.0.0.1 from the rate
// limits and impersonates up to n customers: their ids and tokens.
func setup(base string, n int) (su api, ids, tokens []string, err error) {
	var auth struct {
		Token string `json:"token"`
	}
	if err = (api{base: base}).do("POST", "/api/collections/_superusers/auth-with-password",
		map[string]string{"identity": suEmail, "password": suPassword}, &auth); err != nil {
		return
	}
	su = api{base: base, token: auth.Token}
	// The load generator is one IP: without this the guest /api/ rule (300
	// per 10 s) answers /api/health with 429 and checkout is 30 a minute.
	if err = su.do("PATCH", "/api/settings", map[string]any{
		"rateLimits": map[string]any{"excludedIPs": []string{"127.0.0.1"}},
	}, nil); err != nil {
		return
	}
	if ids, err = su.userIDs("customer", n); err != nil {
		return
	}
	if len(ids) == 0 {
		return su, nil, nil, fmt.Errorf("no customers found")
	}
	if tokens, err = su.impersonate(ids); err != nil {
		return
	}
	log.Printf("impersonated %d customers", len(tokens))
	return su, ids, tokens, nil
}

// userIDs lists the ids of up to n users of a role.
func (a api) userIDs(role string, n int) ([]string, error) {
	var ids []string
	for page := 1; len(ids) < n; page++ {
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		q := url.Values{"filter": {fmt.Sprintf("role=%q", role)}, "perPage": {"500"}, "fields": {"id"},
			"page": {strconv.Itoa(page)}, "skipTotal": {"1"}}
		if err := a.do("GET", "/api/collections/users/records?"+q.Encode(), nil, &list); err != nil {
			return nil, err
		}
		for _, it := range list.Items {
			ids = append(ids, it.ID)
		}
		if len(list.Items) < 500 {
			break
		}
	}
	return ids[:min(n, len(ids))], nil
}

// impersonate gets an hour-long token of each user (superuser only), a few
// requests at a time: thousands of customers take seconds, not minutes.
func (a api) impersonate(ids []string) ([]string, error) {
	tokens := make([]string, len(ids))
	errs := make([]error, len(ids))
	parallel(len(ids), 4, func(i int) {
		var r struct {
			Token string `json:"token"`
		}
		errs[i] = a.do("POST", "/api/collections/users/impersonate/"+ids[i], map[string]int{"duration": 3600}, &r)
		tokens[i] = r.Token
	})
	return tokens, errors.Join(errs...)
}

// parallel calls fn(i) for every i in [0, n), workers at a time.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func machineInfo() map[string]string {
	m := map[string]string{
		"goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(),
		"nproc": strconv.Itoa(runtime.NumCPU()),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if i := strings.Index(l, ":"); i >= 0 {
					m["cpu"] = strings.TrimSpace(l[i+1:])
				}
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				m["mem_total"] = strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:"))
			}
		}
	}
	return m
}
