package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSignatureMatchesTheSpecVector signs the Standard Webhooks spec's
// published example and gets its signature.
func TestSignatureMatchesTheSpecVector(t *testing.T) {
	got, err := signature([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
}

// TestRotatedSecretsSignTogether: two secrets, two space-separated
// signatures, the current one first.
func TestRotatedSecretsSignTogether(t *testing.T) {
	current, previous := newSecret(), newSecret()
	both, err := signature([]string{current, previous}, "msg_1", 1, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	one, _ := signature([]string{current}, "msg_1", 1, []byte("{}"))
	other, _ := signature([]string{previous}, "msg_1", 1, []byte("{}"))
	if both != one+" "+other {
		t.Errorf("signature = %q, want %q", both, one+" "+other)
	}
	if err := checkSecret(current); err != nil || !strings.HasPrefix(current, "whsec_") {
		t.Errorf("generated secret %q refused: %v", current, err)
	}
	for _, bad := range []string{"whsec_", "whsec_c2hvcnQ=", "sk_live_abc", "whsec_not base64!"} {
		if checkSecret(bad) == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}

// TestOnlyPublicAddressesAreDialled covers the addresses a delivery
// refuses, the clouds' metadata services among them.
func TestOnlyPublicAddressesAreDialled(t *testing.T) {
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2606:4700:4700::1111": true, "93.184.216.34": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fd00:ec2::254": false, "100.100.100.200": false, "0.0.0.0": false, "::": false,
		"fe80::1": false, "::ffff:127.0.0.1": false, "::ffff:169.254.169.254": false, "224.0.0.1": false,
		"255.255.255.255": false, "64:ff9b::a9fe:a9fe": false, "198.18.0.1": false,
	} {
		if got := publicAddress(netip.MustParseAddr(addr)); got != public {
			t.Errorf("publicAddress(%s) = %v, want %v", addr, got, public)
		}
	}
}

// TestEndpointURLRules: https to a public host; http and private hosts
// only with the switch.
func TestEndpointURLRules(t *testing.T) {
	for _, tc := range []struct {
		url           string
		strict, loose bool
	}{
		{"https://hooks.example.com/shop", true, true},
		{"https://93.184.216.34/x", true, true},
		{"http://hooks.example.com/shop", false, true},
		{"https://127.0.0.1/x", false, true},
		{"https://[::1]/x", false, true},
		{"https://169.254.169.254/latest/meta-data", false, true},
		{"https://[fd00:ec2::254]/", false, true},
		{"https://10.0.0.5/", false, true},
		{"https://localhost/x", false, true},
		{"https://metadata.google.internal/", false, true},
		{"https://intranet/", false, true},
		{"ftp://hooks.example.com/", false, false},
		{"https://user:pass@hooks.example.com/", false, false},
		{"/relative", false, false},
	} {
		if got := CheckEndpointURL(tc.url, false) == nil; got != tc.strict {
			t.Errorf("%s accepted=%v without the switch, want %v", tc.url, got, tc.strict)
		}
		if got := CheckEndpointURL(tc.url, true) == nil; got != tc.loose {
			t.Errorf("%s accepted=%v with the switch, want %v", tc.url, got, tc.loose)
		}
	}
}

// TestDialledPrivateAddressIsRefused: the check runs on the address the
// client dials, after DNS, so a public name that resolves (or is rebound)
// to a private address is refused too; the receiver is never reached.
func TestDialledPrivateAddressIsRefused(t *testing.T) {
	var hits atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer receiver.Close()
	client := newClient(Config{Timeout: 2 * time.Second, PerEndpoint: 1})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, receiver.URL, nil)
	_, err := client.Do(req)
	if !errors.Is(attemptError(err), errPrivateAddress) {
		t.Errorf("dialling %s: %v, want the private address refused", receiver.URL, err)
	}
	if hits.Load() != 0 {
		t.Error("the receiver was reached")
	}
}

// TestRetryScheduleParses reads SHOPDASH_WEBHOOKS_RETRIES.
func TestRetryScheduleParses(t *testing.T) {
	got, err := ParseRetries("0s, 5s,5m,2h")
	if err != nil || len(got) != 4 || got[3] != 2*time.Hour {
		t.Errorf("ParseRetries = %v, %v", got, err)
	}
	for _, bad := range []string{"", "5", "1s,,2s", "-1s", "200h", strings.Repeat("1s,", 30) + "1s"} {
		if _, err := ParseRetries(bad); err == nil {
			t.Errorf("ParseRetries(%q) accepted", bad)
		}
	}
}

// TestRetryAfterIsBounded reads seconds and dates, never past a day.
func TestRetryAfterIsBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "30": 30 * time.Second, "-5": 0, "999999999": maxRetryAfter, "soon": 0,
		now.Add(time.Hour).Format(http.TimeFormat): time.Hour,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}
