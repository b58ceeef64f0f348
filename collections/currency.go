package collections

import (
	"slices"
	"strings"
)

// Stripe's zero-decimal and three-decimal currencies. Stripe keeps some
// currencies that are whole units in practice (ISK, HUF, TWD) at two
// decimals, so these are not the ISO 4217 or CLDR exponents. The customer
// page (pb_public/app.js) keeps a copy of both lists.
var (
	zeroDecimalCurrencies  = []string{"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
	threeDecimalCurrencies = []string{"bhd", "jod", "kwd", "omr", "tnd"}
)

// MinorUnitDigits is how many decimal digits an amount in the currency has
// in minor units, as Stripe counts them: 0 for JPY (1500 is ¥1,500), 3 for
// KWD, 2 for most.
func MinorUnitDigits(currency string) int {
	currency = strings.ToLower(currency)
	switch {
	case slices.Contains(zeroDecimalCurrencies, currency):
		return 0
	case slices.Contains(threeDecimalCurrencies, currency):
		return 3
	}
	return 2
}
