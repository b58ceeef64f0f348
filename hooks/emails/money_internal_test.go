package emails

import "testing"

func TestFormatMoneyUsesTheCurrencyMinorUnits(t *testing.T) {
	cases := []struct {
		minor          int
		currency, lang string
		want           string
	}{
		{123450, "usd", "en", "1,234.50 USD"},
		{123450, "usd", "de", "1.234,50 USD"},
		{5, "usd", "en", "0.05 USD"},
		{-2500, "usd", "de", "-25,00 USD"},
		{1500, "jpy", "en", "1,500 JPY"},
		{1500, "jpy", "de", "1.500 JPY"},
		{1234567, "kwd", "en", "1,234.567 KWD"},
		{1234567, "kwd", "de", "1.234,567 KWD"},
		{50, "kwd", "en", "0.050 KWD"},
		{250000, "xof", "fr", "250\u202f000 XOF"},
		// Stripe counts ISK in hundredths although it has no coins.
		{150000, "isk", "en", "1,500.00 ISK"},
	}
	for _, tc := range cases {
		if got := formatMoney(tc.minor, tc.currency, tc.lang); got != tc.want {
			t.Errorf("formatMoney(%d, %q, %q) = %q, want %q", tc.minor, tc.currency, tc.lang, got, tc.want)
		}
	}
}
