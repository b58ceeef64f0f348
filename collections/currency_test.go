package collections

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMinorUnitDigitsFollowsStripe(t *testing.T) {
	cases := []struct {
		currency string
		want     int
	}{
		{"usd", 2}, {"EUR", 2}, {"gbp", 2},
		{"jpy", 0}, {"JPY", 0}, {"krw", 0}, {"xof", 0}, {"bif", 0}, {"vuv", 0},
		{"kwd", 3}, {"bhd", 3}, {"tnd", 3},
		// Whole units in practice, hundredths in Stripe's API.
		{"isk", 2}, {"huf", 2}, {"twd", 2}, {"idr", 2},
		{"", 2},
	}
	for _, tc := range cases {
		if got := MinorUnitDigits(tc.currency); got != tc.want {
			t.Errorf("MinorUnitDigits(%q) = %d, want %d", tc.currency, got, tc.want)
		}
	}
}

// TestPageCountsMinorUnitsLikeTheServer keeps the customer page's copy of
// the currency lists equal to the server's.
func TestPageCountsMinorUnitsLikeTheServer(t *testing.T) {
	page, err := os.ReadFile("../pb_public/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for set, want := range map[string][]string{"zeroDecimal": zeroDecimalCurrencies, "threeDecimal": threeDecimalCurrencies} {
		m := regexp.MustCompile(`const ` + set + ` = new Set\(\[([^\]]*)\]\)`).FindSubmatch(page)
		if m == nil {
			t.Fatalf("app.js has no %s set", set)
		}
		got := strings.Split(strings.NewReplacer(`"`, "", " ", "").Replace(string(m[1])), ",")
		if !slices.Equal(got, want) {
			t.Errorf("app.js %s = %v, the server's %v", set, got, want)
		}
	}
}
